"""Allocation into temporary classes: the seat plan of every slot of a week (min-cost flow,
see scheduling.allocation), study halls for the rest, and its commit with the notices."""

import math
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.selectors import slot_enrolments_in_force
from schools.audit import audit_record
from schools.errors import Conflict, InvalidTransition
from schools.formats import moment_label, weekday_name
from schools.models import ServiceSlot, Staff, User

from .. import allocation, selectors
from ..events import SchedulingAction, classes_created
from ..models import AllocationRun, Choice, Menu, MenuItem, Placement, TemporaryClass
from . import notices


@dataclass
class SeatPlan:
    """What an allocation would write: the classes and their members, per slot."""

    classes: list[TemporaryClass] = field(default_factory=list)
    members: list[list[dict]] = field(default_factory=list)  # per class: placement fields
    stats: dict = field(default_factory=dict)
    # Per slot, what the principal reads before confirming (see `_slot_report`).
    report: list[dict] = field(default_factory=list)


def _hardship(menu: Menu, student_ids: set[int], choices: int) -> dict[int, float]:
    """How badly each child fared in the school's earlier allocated weeks of the term: the
    average rank lost per slot in which it had ranked choices (unplaced counts as `choices`)."""
    rows = (Placement.objects.filter(menu__term=menu.term, menu__week__lt=menu.week,
                                     student_id__in=student_ids)
            .exclude(had_choices=False).values_list("student_id", "rank"))
    lost: dict[int, list[int]] = defaultdict(list)
    for student_id, rank in rows:
        lost[student_id].append(rank - 1 if rank else choices)
    return {s: sum(v) / len(v) for s, v in lost.items()}


def plan_seats(menu: Menu, seed: str) -> SeatPlan:
    """Solve every slot of the menu; build (unsaved) classes and their members."""
    school = menu.school
    cap, k = school.temp_class_cap, school.choices_per_slot
    plan = SeatPlan()
    slots = {s.pk: s for s in menu.term.slots.all()}
    items = list(menu.items.select_related("activity", "teacher"))
    items_by_slot: dict[int, list[MenuItem]] = defaultdict(list)
    for item in items:
        items_by_slot[item.slot_id].append(item)
    # Who sits in each slot: enrolled in it and in force on the day it runs this week.
    rows = slot_enrolments_in_force(menu.term, selectors.week_slot_days(menu, slots.values()))
    ranked: dict[tuple[int, int], list[int]] = defaultdict(list)
    for student_id, slot_id, item_id in (Choice.objects.filter(menu=menu).order_by("rank")
                                         .values_list("student_id", "slot_id", "item_id")):
        ranked[(student_id, slot_id)].append(item_id)
    student_ids = {r[1] for r in rows}
    hardship = _hardship(menu, student_ids, k)
    homerooms = {h.pk: h for h in school.homerooms.select_related("grade", "head_teacher")}
    grade_names = dict(school.grades.values_list("number", "name"))
    staff_pool = list(school.staff.filter(active=True, kind=Staff.Kind.TEACHER).order_by("pk"))
    counts = {"placed": 0, "first_choice": 0, "second_choice": 0, "third_choice": 0,
              "other_choice": 0, "unplaced": 0, "priority_unplaced": 0, "no_choice": 0,
              "study_hall": 0, "classes": 0, "study_halls": 0, "without_head_teacher": 0}
    solve_seconds = 0.0

    by_slot: dict[int, list[tuple]] = defaultdict(list)
    for slot_id, student_id, grade, homeroom_id, priority in rows:
        by_slot[slot_id].append((student_id, grade, homeroom_id, priority))

    for slot_id in sorted(by_slot, key=lambda pk: (slots[pk].weekday, slots[pk].start)):
        slot = slots[slot_id]
        label = f"{weekday_name(slot.weekday)}{slot.get_kind_display()}"
        offers = items_by_slot.get(slot_id, [])
        children = [allocation.Child(id=sid, grade=grade, priority=priority,
                                     ranked=tuple(ranked.get((sid, slot_id), ())),
                                     hardship=hardship.get(sid, 0.0))
                    for sid, grade, _h, priority in by_slot[slot_id]]
        result = allocation.solve(
            children, [allocation.Offer(id=i.pk, seats=min(i.capacity, cap),
                                        grades=frozenset(i.grades)) for i in offers],
            seed=f"{seed}:{slot_id}", choices=k)
        solve_seconds += result.solve_seconds
        busy = {i.teacher_id for i in offers if i.teacher_id}
        free = [s for s in staff_pool if s.pk not in busy]
        class_of_item = {}
        for item in offers:
            # The activity's teacher, else a school teacher free in that slot.
            head = item.teacher or (free.pop(0) if free else None)
            plan.classes.append(TemporaryClass(
                menu=menu, slot=slot, item=item, kind=TemporaryClass.Kind.ACTIVITY,
                name=f"{label}·{item.activity.name}", capacity=min(item.capacity, cap),
                head_teacher=head, room=item.room, start=item.start, end=item.end))
            plan.members.append([])
            class_of_item[item.pk] = len(plan.classes) - 1
            if head is None:
                counts["without_head_teacher"] += 1
        info = {sid: (grade, homeroom_id, priority)
                for sid, grade, homeroom_id, priority in by_slot[slot_id]}
        for sid, (item_id, rank) in result.placed.items():
            plan.members[class_of_item[item_id]].append(
                {"student_id": sid, "rank": rank, "priority": info[sid][2], "had_choices": True})
            counts["placed"] += 1
            key = {1: "first_choice", 2: "second_choice", 3: "third_choice"}.get(rank,
                                                                                "other_choice")
            counts[key] += 1
        unplaced = set(result.unplaced)
        counts["unplaced"] += len(unplaced)
        counts["priority_unplaced"] += sum(1 for sid in unplaced if info[sid][2])
        leftovers = [sid for sid in info if sid not in result.placed]
        counts["no_choice"] += sum(1 for sid in leftovers if sid not in unplaced)
        counts["study_hall"] += len(leftovers)
        first_hall = len(plan.classes)
        _study_halls(plan, menu, slot, label, leftovers, info, unplaced, homerooms,
                     grade_names, cap, free, counts)
        halls: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # grade → [children, classes]
        for cls, members in zip(plan.classes[first_hall:], plan.members[first_hall:],
                                strict=True):
            halls[cls.grade][0] += len(members)
            halls[cls.grade][1] += 1
        plan.report.append(_slot_report(slot, label, offers, children, result, cap, k) | {
            "study_halls": [{"grade": g, "children": n, "classes": c}
                            for g, (n, c) in sorted(halls.items())]})
    counts["classes"] = len(plan.classes)
    plan.stats = counts | {"seed": seed, "solve_seconds": round(solve_seconds, 4),
                           "slots": len(by_slot), "cap": cap}
    return plan


def _slot_report(slot: ServiceSlot, label: str, offers: list[MenuItem],
                 children: list[allocation.Child], result: allocation.Result, cap: int,
                 k: int) -> dict:
    """One slot as the principal reads it: each activity's seats, how many ranked it first,
    how many it took at each rank; the children left out with what they ranked and why it
    could not be theirs (the caller adds the study halls it made, by grade). Ids only: names
    are read when shown."""
    seats = {i.pk: min(i.capacity, cap) for i in offers}
    grades = {i.pk: set(i.grades) for i in offers}
    taken: dict[int, list[int]] = {i.pk: [0] * k for i in offers}
    for item_id, rank in result.placed.values():
        if rank <= k:
            taken[item_id][rank - 1] += 1
    first = defaultdict(int)
    for child in children:
        if child.ranked:
            first[child.ranked[0]] += 1
    left_out = []
    by_id = {c.id: c for c in children}
    for sid in sorted(result.unplaced):
        child = by_id[sid]
        reasons = []
        for rank, item_id in enumerate(child.ranked, start=1):
            if item_id not in seats:
                why = "withdrawn"
            elif child.grade not in grades[item_id]:
                why = "grade"
            elif rank > k:
                why = "beyond"
            else:
                why = "full"
            reasons.append([item_id, why])
        left_out.append({"student": sid, "grade": child.grade, "priority": child.priority,
                         "ranked": reasons})
    return {"slot": slot.pk, "label": label, "children": len(children),
            "with_choices": sum(1 for c in children if c.ranked),
            "seats": sum(seats.values()),
            "offers": [{"item": i.pk, "name": i.activity.name, "seats": seats[i.pk],
                        "grades": sorted(grades[i.pk]), "first": first[i.pk],
                        "placed": taken[i.pk]} for i in offers],
            "left_out": left_out}


def _study_halls(plan: SeatPlan, menu: Menu, slot: ServiceSlot, label: str, leftovers,
                 info, unplaced: set[int], homerooms, grade_names, cap: int, free: list[Staff],
                 counts: dict) -> None:
    """托管自习班: the children without a seat in an activity, by grade then homeroom, in as
    few classes under the cap as each grade needs, split evenly; head teachers are free staff,
    the children's own homeroom teachers first."""
    by_grade: dict[int, list[int]] = defaultdict(list)
    for sid in leftovers:
        by_grade[info[sid][0]].append(sid)
    free_ids = {s.pk: s for s in free}
    for grade in sorted(by_grade):
        kids = sorted(by_grade[grade], key=lambda sid: (homerooms[info[sid][1]].name, sid))
        n_classes = math.ceil(len(kids) / cap)
        size, extra = divmod(len(kids), n_classes)
        start = 0
        for number in range(1, n_classes + 1):
            chunk = kids[start:start + size + (1 if number <= extra else 0)]
            start += len(chunk)
            first_homeroom = homerooms[info[chunk[0]][1]]
            own_heads = [homerooms[info[sid][1]].head_teacher_id for sid in chunk]
            head = next((free_ids[h] for h in own_heads if h in free_ids), None)
            head = head or next(iter(free_ids.values()), None)
            if head is not None:
                free_ids.pop(head.pk)
            else:
                counts["without_head_teacher"] += 1
            suffix = f"{number}班" if n_classes > 1 else "班"
            plan.classes.append(TemporaryClass(
                menu=menu, slot=slot, item=None, kind=TemporaryClass.Kind.STUDY_HALL, grade=grade,
                name=f"{label}·{grade_names.get(grade, grade)}托管自习{suffix}",
                capacity=cap, head_teacher=head, room=_("%s教室") % first_homeroom,
                start=slot.start, end=slot.end))
            plan.members.append([{"student_id": sid, "rank": None, "priority": info[sid][2],
                                  "had_choices": sid in unplaced} for sid in chunk])
            counts["study_halls"] += 1


@transaction.atomic
def menu_allocate(*, menu: Menu, user: User, commit: bool = True,
                  seed: str | None = None) -> dict:
    """Allocate every enrolled child of the week (preview with `commit=False`: nothing is
    written but the run's record). Committing writes the classes and placements in bulk,
    marks the menu allocated and notifies guardians and head teachers."""
    started = time.perf_counter()
    menu = Menu.objects.select_for_update().select_related("school", "term").get(pk=menu.pk)
    if menu.status != Menu.Status.PUBLISHED:
        raise InvalidTransition(menu.get_status_display(), _("分班"),
                                _("只有已发布、尚未分班的菜单可以分班。"))
    if commit and timezone.now() < menu.choice_deadline:
        raise Conflict(_("选课截止（%s）之前不能确认分班，可以先预览。")
                       % moment_label(menu.choice_deadline), code="deadline_not_passed")
    seed = seed or secrets.token_hex(8)
    plan = plan_seats(menu, seed)
    run = AllocationRun.objects.create(menu=menu, seed=seed, committed=commit,
                                       stats=plan.stats | {"report": plan.report},
                                       created_by=user)
    if commit:
        classes = TemporaryClass.objects.bulk_create(plan.classes, batch_size=1000)
        Placement.objects.bulk_create([
            Placement(temporary_class=cls, menu=menu, slot_id=cls.slot_id, **member)
            for cls, members in zip(classes, plan.members, strict=True) for member in members
        ], batch_size=2000)
        menu.status = Menu.Status.ALLOCATED
        menu.save(update_fields=["status"])
        notices.placements_made(menu, classes)
        classes_created.send(sender=TemporaryClass, menu=menu, classes=classes)
    plan.stats["request_seconds"] = round(time.perf_counter() - started, 3)
    audit_record(actor=user, action=SchedulingAction.MENU_ALLOCATED if commit
                 else SchedulingAction.MENU_PREVIEWED, obj=menu, school=menu.school,
                 data={"run": run.pk, **plan.stats})
    return plan.stats | {"run": run.pk}
