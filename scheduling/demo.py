"""Demo scheduling data for `manage.py seed_demo`: the primary school's activities, this
week's menu allocated into temporary classes (so teachers' class lists and guardians'
timetables are populated) and next week's menu published, open for choices.

Everything goes through the services. Two liberties, both only here: this week's choices are
recorded while the menu is open and its deadline is then set back to the Friday before (the
week has begun); next week's deadline is moved forward when the usual one (the Friday before)
has passed, so a newcomer can still rank choices. Idempotent: a week that has a menu is left
alone. Choices come from a fixed random seed.
"""

import datetime
import random

from django.utils import timezone

from schools.models import School, ServiceSlot, Staff, User
from schools.selectors import children_of, monday_of, term_of_week

from . import selectors, services
from .models import Activity, Menu

SEED = "20260901-scheduling"
PRIMARY_CODE = "DEMO-P1"
NOON, AFTERNOON = ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON
ALL = [1, 2, 3, 4, 5, 6]
C = Activity.Category
# name, category, grades, capacity, room, teacher (username of a demo account, "provider:<name>"
# for a provider's coach, or None for the next free school teacher), description
ACTIVITIES = [
    ("足球", C.SPORTS, [3, 4, 5, 6], 40, "东操场", "teacher", "传接球、射门与小场比赛"),
    ("绘本共读", C.READING, [1, 2], 40, "图书馆一层", None, "老师带读绘本，讲故事、演故事"),
    ("快乐跳绳", C.SPORTS, [1, 2, 3], 45, "风雨操场", None, "单摇、双摇与花样跳绳"),
    ("书法", C.ARTS, [3, 4, 5, 6], 40, "书法教室", None, "硬笔与软笔书法入门"),
    ("合唱", C.ARTS, ALL, 45, "音乐教室", None, "校合唱团预备队"),
    ("科学小实验", C.SCIENCE, [3, 4, 5, 6], 40, "科学实验室", None, "动手做实验，记录与分享"),
    ("编程启蒙", C.SCIENCE, [4, 5, 6], 40, "计算机教室", "provider:陈志远", "图形化编程与小作品"),
    ("校园种植园", C.LABOUR, [2, 3, 4], 40, "种植园", None, "播种、浇水、观察记录"),
    ("国际象棋", C.CLUB, [3, 4, 5, 6], 40, "棋艺教室", "provider:孙浩然", "规则、基本战术与对弈"),
    ("作业辅导", C.HOMEWORK, [3, 4, 5, 6], 45, "阶梯教室", None, 
     "完成书面作业，教师答疑，不讲新课"),
    ("午间阅读", C.READING, ALL, 45, "图书馆二层", None, "午饭后安静阅读与午休"),
]
PROVIDER = "示范区青少年素质教育中心"


def ensure_activities(school: School, principal: User) -> list[Activity]:
    if school.activities.exists():
        return list(school.activities.all())
    teachers = iter(school.staff.filter(kind=Staff.Kind.TEACHER, active=True,
                                        homerooms__isnull=True).exclude(user__username="teacher")
                    .order_by("pk"))
    heads = iter(school.staff.filter(kind=Staff.Kind.TEACHER, homerooms__isnull=False)
                 .order_by("-pk"))
    made = []
    for name, category, grades, capacity, room, who, description in ACTIVITIES:
        if who == "teacher":
            teacher = Staff.objects.get(user__username="teacher")
        elif who and who.startswith("provider:"):
            teacher, _ = Staff.objects.get_or_create(
                school=school, name=who.split(":", 1)[1], kind=Staff.Kind.PROVIDER,
                defaults={"provider_name": PROVIDER})
        else:
            teacher = next(teachers, None) or next(heads)
        made.append(services.activity_create(
            school=school, user=principal, name=name, category=category, grades=grades,
            capacity=capacity, room=room, teacher=teacher, description=description))
    return made


def build_menu(school: School, week: datetime.date, principal: User,
               activities: list[Activity], deadline: datetime.datetime) -> Menu:
    menu = services.menu_create(school=school, week=week, user=principal,
                                choice_deadline=deadline)
    by_name = {a.name: a for a in activities}
    for slot in menu.term.slots.order_by("weekday", "start"):
        if slot.kind == NOON:
            services.menu_item_add(menu=menu, user=principal, activity=by_name["午间阅读"],
                                   slot=slot)
        elif slot.kind == AFTERNOON:
            for activity in activities:
                if activity.name == "午间阅读":
                    continue
                # Two-thirds of the clubs each afternoon, rotating, so the week varies.
                if (activity.pk + slot.weekday) % 3 == 0 and activity.category != C.HOMEWORK:
                    continue
                services.menu_item_add(menu=menu, user=principal, activity=activity, slot=slot)
    return services.menu_publish(menu=menu, user=principal, acknowledge_warnings=True)


def rank_choices(menu: Menu, rng: random.Random, share: float, skip: set[int]) -> int:
    """Guardians rank up to the school's number of choices for most afternoon slots."""
    k = menu.school.choices_per_slot
    items = list(menu.items.select_related("activity"))
    enrolments = (selectors.enrolled_in_week(menu).exclude(student_id__in=skip)
                  .select_related("student__grade", "application__applicant")
                  .prefetch_related("slots").order_by("student__student_no"))
    popularity = {spec[0]: weight for spec, weight in
                  zip(ACTIVITIES, [9, 6, 5, 4, 3, 7, 8, 3, 4, 2, 1], strict=True)}
    days = selectors.week_slot_days(menu)  # the date each slot runs that week
    count = 0
    for enrolment in enrolments:
        student = enrolment.student
        for slot in enrolment.slots.all():
            # An enrolment that starts mid-week has no choice to make for the days before.
            if (slot.kind != AFTERNOON or slot.pk not in days
                    or not enrolment.covers(days[slot.pk])):
                continue
            if rng.random() > share:
                continue
            open_items = [i for i in items if i.slot_id == slot.pk
                          and student.grade.number in i.grades]
            ranked = []
            while open_items and len(ranked) < k:
                pick = rng.choices(open_items,
                                   [popularity.get(i.activity.name, 1) for i in open_items])[0]
                open_items.remove(pick)
                ranked.append(pick)
            services.choices_set(menu=menu, student=student, slot=slot, items=ranked,
                                 user=enrolment.application.applicant)
            count += 1
    return count


def seed(*, stdout=None) -> dict:
    school = School.objects.filter(code=PRIMARY_CODE).first()
    if school is None:
        return {}
    principal = User.objects.get(username="principal")
    today = timezone.localdate()
    this_week = monday_of(today)
    next_week = this_week + datetime.timedelta(days=7)
    if term_of_week(school.pk, this_week) is None:
        return {}
    activities = ensure_activities(school, principal)
    rng = random.Random(f"{SEED}-{this_week}")
    result = {}
    if not school.menus.filter(week=this_week).exists():
        menu = build_menu(school, this_week, principal, activities,
                          timezone.now() + datetime.timedelta(hours=1))
        result["choices_this_week"] = rank_choices(menu, rng, 0.8, skip=set())
        Menu.objects.filter(pk=menu.pk).update(
            choice_deadline=services.default_deadline(this_week))
        result["allocation"] = services.menu_allocate(menu=menu, user=principal,
                                                      seed=f"demo-{this_week}")
    if (term_of_week(school.pk, next_week) is not None
            and not school.menus.filter(week=next_week).exists()):
        deadline = max(services.default_deadline(next_week),
                       timezone.make_aware(datetime.datetime.combine(
                           today + datetime.timedelta(days=1), datetime.time(20, 0))))
        menu = build_menu(school, next_week, principal, activities, deadline)
        # Some families have already chosen; `parent`'s children have not, so a newcomer can.
        parent_children = {c.pk for c in children_of(User.objects.get(username="parent"))}
        result["choices_next_week"] = rank_choices(menu, rng, 0.35, skip=parent_children)
    if stdout is not None and result:
        stats = result.get("allocation")
        line = f"{school.name} 排班："
        if stats:
            line += (f"本周已分班 {stats['classes']} 个临时班（第一志愿 {stats['first_choice']}，"
                     f"第二 {stats['second_choice']}，第三 {stats['third_choice']}，"
                     f"托管自习 {stats['study_hall']}）；")
        if "choices_next_week" in result:
            line += f"下周菜单已发布，已有 {result['choices_next_week']} 份志愿"
        stdout.write(line + "\n")
    return result
