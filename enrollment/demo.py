"""Demo enrollment data for `manage.py seed_demo`: the primary school's published term plan and
some 480 applications in every state, with their enrolments, a few leaves and one pending
withdrawal; the middle school gets a published plan only.

Everything goes through the services (signatures, audit rows and notices are real): one
application_submit per application, then the class reviews of a homeroom and the principal's
approvals in bulk. Idempotent: a published plan is never published again, a pupil who already
has an application for the term is skipped, and leaves and withdrawals are only added to a term
that has none. Choices come from a fixed random seed, so every run picks the same pupils.

The demo families are fixed: `parent`'s first child (张小明, the `homeroom` account's class) has
no application, so a newcomer can walk the flow; the second (张小红) is enrolled in all ten
slots; `parent2`'s child (刘洋) waits in homeroom2's queue with a submitted application.
"""

import datetime
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from django.utils import timezone

from schools.models import (
    GuardianStudent,
    PriorityCategory,
    School,
    ServiceSlot,
    Student,
    Term,
    User,
)
from schools.selectors import ServiceDay, children_of, current_term, service_days

from . import selectors, services
from .models import Application, Enrolment, Leave, TermPlan, Withdrawal

SEED = "20260901-enrollment"
PRIMARY_CODE, MIDDLE_CODE = "DEMO-P1", "DEMO-M1"
WINDOW_BEFORE, WINDOW_AFTER = datetime.timedelta(days=14), datetime.timedelta(days=14)

S = Application.Status
# Share of each grade's pupils who apply: the lower grades need it most.
APPLY_RATE = {1: 0.85, 2: 0.8, 3: 0.7, 4: 0.62, 5: 0.55, 6: 0.48}
STATE_WEIGHTS = [(S.APPROVED, 80), (S.CLASS_APPROVED, 7), (S.SUBMITTED, 6), (S.RETURNED, 3),
                 (S.REJECTED, 2), (S.CANCELLED, 2)]
# At least this many of each state, whatever the draw.
STATE_MINIMUM = {S.SUBMITTED: 12, S.CLASS_APPROVED: 15, S.RETURNED: 4, S.REJECTED: 3,
                 S.CANCELLED: 2}
# Priority claims returned for their evidence.
RETURNED_CLAIMS = 3
# Applications left waiting in the `homeroom` account's class, so its queue is not empty.
HOMEROOM_QUEUE = 5

NOON, AFTERNOON = ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON
SLOT_CHOICES = [  # (kinds, weekdays), weight
    (((NOON, AFTERNOON), (1, 2, 3, 4, 5)), 35),
    (((AFTERNOON,), (1, 2, 3, 4, 5)), 38),
    (((NOON,), (1, 2, 3, 4, 5)), 12),
    (((AFTERNOON,), (1, 2, 3, 4)), 8),
    (((AFTERNOON,), (1, 3, 5)), 7),
]
CLAIM_LABELS = dict(PriorityCategory.choices)
RETURN_REASONS = {
    PriorityCategory.DUAL_WORKING: "请补充双职工证明（父母双方单位出具的在职证明）",
    PriorityCategory.LEFT_BEHIND: "请补充留守儿童认定材料（村/社区出具）",
    PriorityCategory.MIGRANT: "请补充进城务工人员随迁子女证明（居住证或务工证明）",
    PriorityCategory.LOW_INCOME: "请补充家庭经济困难认定材料（低保证或民政部门证明）",
    PriorityCategory.DISABLED: "请补充残疾人证或医院诊断证明",
}
RETURN_GENERIC = ["请核对所选服务时段（午间/课后）后重新提交",
                  "请在备注中注明孩子的过敏史或特殊看护需要",
                  "接送人信息不完整，请补充委托接送人的姓名和电话"]
REJECT_REASONS = ["家长电话确认孩子已参加校外托管，本学期不再参加课后服务",
                  "孩子为寄宿生，由学校统一安排晚间看护",
                  "孩子乘坐校车，放学后随校车统一离校"]
NOTES = ["孩子对花生过敏，请午餐时留意", "周三由爷爷接送", "希望参加足球或篮球社团",
         "孩子午睡需要靠窗位置，谢谢老师", "如有作业未完成请电话告知", "希望参加书法或国画"]
LEAVE_REASONS = ["发烧，居家休息", "家中有事，家长提前接回", "参加区少儿合唱比赛", "牙科复诊"]
WITHDRAWAL_REASON = "孩子报名了校外游泳训练，时间与课后服务冲突，申请退出"


# --- the term plan ---------------------------------------------------------------------------


def plan_fields(school: School, term: Term, today: datetime.date) -> dict:
    middle = school.stage == School.Stage.MIDDLE
    extension = ("“X”——素质拓展（学生自愿选择，每学期 1–2 项）：\n"
                 + ("· 学科拓展：数学思维、英语阅读、物理化学实验；\n"
                    "· 体育：篮球、排球、田径、跳绳、体能训练；\n"
                    "· 艺术：合唱、器乐、书法、美术；\n"
                    "· 科学与劳动：机器人与编程、航模、校园种植、木工。"
                    if middle else
                    "· 阅读：绘本共读、整本书阅读、朗诵与讲故事；\n"
                    "· 体育：足球、篮球、跳绳、田径、武术；\n"
                    "· 艺术：合唱、书法、国画、剪纸、陶艺；\n"
                    "· 科学：科学小实验、编程启蒙、航模；\n"
                    "· 劳动：校园种植园、手工制作、整理与收纳。"))
    homework = ("“1”——作业辅导与答疑：各班由本班或同年级教师看护，指导学生完成书面作业，"
                + ("学科教师轮流答疑，不讲授新课；\n" if middle else
                   "一、二年级不布置书面家庭作业，以阅读和游戏化巩固为主；\n"))
    return {
        "service_days": (
            f"本学期课后服务自 {term.start:%Y年%m月%d日} 起至 {term.end:%Y年%m月%d日} 止，"
            "每周一至周五开展（法定节假日及学校放假日除外）。\n"
            "午间服务 11:40–14:10：午餐、午休与午间阅读，每次计 2 课时；\n"
            "课后服务 16:20–18:00：每次计 1 课时。家长可按需选择时段，"
            "17:30 起可由家长提前接回，最晚不超过 18:00。"),
        "menu_outline": "实行“1+X”服务模式：\n" + homework + extension,
        "staffing": (
            "以本校在职教师为主，按每 40–45 名学生配备 1 名看护教师；午间由各班班主任、"
            "副班主任轮值。素质拓展项目可聘请经区教育局审核的退休教师、具备资质的校外专业人员"
            "和志愿者参与，校外人员均经无犯罪记录查询并签订安全承诺书。学校课后服务办公室负责"
            "统筹排班与考勤。"),
        "fee_standard": (
            "按成本补偿、非营利原则收取服务性收费：每生每课时 2 元（午间服务每次计 2 课时，"
            "课后服务每次计 1 课时）。收费标准已报区发展改革局、区教育局备案。家庭经济困难学生、"
            "残疾儿童等按规定减免，由班主任初审、学校公示后执行。学校不以任何名义另收其他费用。"),
        "fee_settlement": (
            "学期初按本学期计划服务次数预收，学期末按实际服务结算，多退少补：按规定请假的课时"
            "予以退费，因学校原因停课的课时全部退还。结算明细在期末通过家长端公示，"
            "并可到学校财务室查询。"),
        "withdrawal_rule": (
            "参加课后服务实行“家长自愿、学期申请”。学期中途如需退出，家长须提前 7 天通过家长端"
            "或向班主任提交书面申请，写明退出原因与生效日期，经学校审批后自生效日起停止服务，"
            "已预收未发生的费用在期末结算时退还。中途申请加入的，经班主任审核、校长审定后"
            "自批准之日起参加。"),
        "safety_measures": (
            "1. 每个服务班由固定看护教师负责，每次服务开始时点名，缺勤学生 10 分钟内与家长电话"
            "核实；\n"
            "2. 实行签到签退制度，学生离校须由家长或家长书面委托的成年人接领；\n"
            "3. 服务期间校门、楼道安排保安和值班行政人员巡查，校外人员凭证出入；\n"
            "4. 体育、科学实验等活动前进行安全提示，器材定期检查；\n"
            "5. 学校配备校医与应急药箱，制定突发事件、恶劣天气应急预案并每学期演练；\n"
            "6. 午间用餐执行食品安全管理制度和校领导陪餐制度。"),
        "agreement_text": agreement_text(school),
        "complaint_phone": school.complaint_phone,
        "complaint_email": school.complaint_email,
        "applications_open": today - WINDOW_BEFORE,
        "applications_close": today + WINDOW_AFTER,
    }


def agreement_text(school: School) -> str:
    return (
        f"{school.name}课后服务安全责任书\n\n"
        "为保障学生参加课后服务期间的人身安全，明确学校与家长双方的责任，根据教育部关于做好"
        "中小学生课后服务工作的有关规定，经双方协商，订立本责任书。\n\n"
        "一、服务时间。学校于本学期每周一至周五（法定节假日及学校放假日除外）提供午间服务"
        "（11:40–14:10）和课后服务（16:20–18:00）。学生参加的时段以家长报名申请为准；"
        "所选时段以外，学生的安全由家长负责。\n\n"
        "二、看护责任。服务期间，学校安排教师按班点名、全程看护，对学生进行安全教育，组织的"
        "活动符合学生年龄特点。学生应遵守学校纪律，听从老师安排，不擅自离开服务场所。"
        "因学校管理过失造成学生伤害的，学校依法承担相应责任。\n\n"
        "三、接送约定。服务结束后，家长或家长书面委托的成年人须按时到校门指定区域接领学生，"
        "签退时核对身份；不得委托未成年人接送。确需学生自行回家的，家长须事先书面说明并承担"
        "相应责任。家长因故不能按时接领的，应提前告知班主任。\n\n"
        "四、请假与退出。学生因病、因事不能参加当日服务的，家长应于当日 11:00 前通过家长端"
        "请假；学期中途退出的，须提前 7 天提交书面申请，经学校批准后生效。未经请假缺席的，"
        "学校发现后及时联系家长。\n\n"
        "五、意外处理。学生在服务期间突发疾病或发生意外的，学校立即采取救护措施，必要时拨打"
        "120 急救电话，并第一时间通知家长；家长应保持登记的联系电话畅通。涉及保险理赔的，"
        "学校协助家长办理。\n\n"
        "六、其他。本责任书自家长签署之日起至本学期课后服务结束时有效。家长在线签名即表示"
        f"已阅读并同意以上条款。如有疑问，请拨打学校咨询投诉电话 {school.complaint_phone}。")


def ensure_plan(term: Term, principal: User, today: datetime.date) -> tuple[TermPlan, bool]:
    """The term's published plan; published now (version 1) if there is none."""
    plan = selectors.plan_current(term)
    if plan is not None:
        return plan, False
    draft = services.plan_save_draft(term=term, user=principal,
                                     **plan_fields(term.school, term, today))
    return services.plan_publish(plan=draft, user=principal), True


# --- applications ----------------------------------------------------------------------------


def guardians_by_student(school: School) -> dict[int, tuple[User, str]]:
    """Each pupil's applicant: the primary guardian's login and registered name."""
    links = (GuardianStudent.objects.filter(student__school=school)
             .select_related("guardian__user").order_by("-is_primary", "id"))
    found: dict[int, tuple[User, str]] = {}
    for link in links:
        found.setdefault(link.student_id, (link.guardian.user, link.guardian.name))
    return found


def pick_slots(slots: Sequence[ServiceSlot], kinds, weekdays) -> list[ServiceSlot]:
    return [s for s in slots if s.kind in kinds and s.weekday in weekdays]


def draw_states(rng: random.Random, pupils: list[Student], queue_homeroom_id: int | None
                ) -> dict[int, str]:
    """The state each applying pupil's application ends in."""
    states, weights = zip(*STATE_WEIGHTS, strict=True)
    drawn = {p.pk: rng.choices(states, weights)[0] for p in pupils}
    queued = [p for p in pupils if p.homeroom_id == queue_homeroom_id][:HOMEROOM_QUEUE]
    for p in queued:
        drawn[p.pk] = S.SUBMITTED
    # Top up any state short of its minimum from approved pupils, spread over the school.
    approved = [p for p in pupils if drawn[p.pk] == S.APPROVED]
    rng.shuffle(approved)
    # A few claims sent back for their evidence ("请补充双职工证明"), dual-working ones first.
    claimants = sorted((p for p in approved if p.priority_categories),
                       key=lambda p: PriorityCategory.DUAL_WORKING not in p.priority_categories)
    for p in claimants[:RETURNED_CLAIMS]:
        drawn[p.pk] = S.RETURNED
        approved.remove(p)
    for state, minimum in STATE_MINIMUM.items():
        short = minimum - sum(1 for v in drawn.values() if v == state)
        for _ in range(max(short, 0)):
            if approved:
                drawn[approved.pop().pk] = state
    return drawn


def seed_applications(term: Term, plan: TermPlan, principal: User, *,
                      fixed: dict[int, tuple[str, str]], queue_homeroom_id: int | None,
                      skip: set[int]) -> Counter:
    """Submit, review and decide the applications of pupils who have none yet. `fixed` maps a
    demo child's pk to (state, slot kind), overriding the draw; pupils in `skip` never apply."""
    today = timezone.localdate()
    if not (plan.applications_open or today) <= today <= (plan.applications_close or today):
        return Counter()  # the window has closed since the plan was published: add nothing
    school = term.school
    rng = random.Random(f"{SEED}-{school.code}")
    have = set(term.applications.values_list("student_id", flat=True))
    guardians = guardians_by_student(school)
    pupils = list(Student.objects.filter(school=school)
                  .select_related("grade", "homeroom__head_teacher__user"))
    slots = list(term.slots.all())
    kinds_weekdays, slot_weights = zip(*SLOT_CHOICES, strict=True)

    applying: list[Student] = []
    chosen_slots: dict[int, list[ServiceSlot]] = {}
    for p in pupils:
        # Every pupil draws the same numbers whether or not it applies (a stable sequence).
        applies = rng.random() < APPLY_RATE.get(p.grade.number, 0.5)
        kinds, weekdays = rng.choices(kinds_weekdays, slot_weights)[0]
        if p.pk in fixed:
            applies = True
            kinds = fixed[p.pk][1]
            weekdays = (1, 2, 3, 4, 5)
        if not applies or p.pk in skip or p.pk in have or p.pk not in guardians:
            continue
        applying.append(p)
        chosen_slots[p.pk] = pick_slots(slots, kinds, weekdays)
    if not applying:
        return Counter()

    drawn = draw_states(rng, [p for p in applying if p.pk not in fixed], queue_homeroom_id)
    drawn.update({pk: state for pk, (state, _kinds) in fixed.items()})

    created: dict[int, Application] = {}
    for p in applying:
        user, name = guardians[p.pk]
        claims = list(p.priority_categories)
        note = rng.choice(NOTES) if rng.random() < 0.12 else ""
        created[p.pk] = services.application_submit(
            applicant=user, guardian_name=name, student=p, term=term,
            slots=chosen_slots[p.pk], priority_claims=claims, note=note,
            signature=services.SignatureInput(agreement_version=plan.version, signed_name=name,
                                              ip_address="127.0.0.1", user_agent="seed_demo"))

    by_state: dict[str, list[Student]] = defaultdict(list)
    for p in applying:
        by_state[drawn[p.pk]].append(p)
    for p in by_state[S.CANCELLED]:
        services.application_cancel(application=created[p.pk], user=guardians[p.pk][0])
    for i, p in enumerate(by_state[S.RETURNED]):
        reason = next((RETURN_REASONS[c] for c in p.priority_categories if c in RETURN_REASONS),
                      RETURN_GENERIC[i % len(RETURN_GENERIC)])
        services.application_review(application=created[p.pk], reviewer=head_of(p),
                                    decision="return", reason=reason)
    for i, p in enumerate(by_state[S.REJECTED]):
        reason = (REJECT_REASONS[1] if p.boarding else REJECT_REASONS[2] if p.bus_rider
                  else REJECT_REASONS[0] if i % 2 == 0 else
                  "孩子家住学校附近且祖父母可全天照看，经与家长沟通，本学期暂不参加")
        services.application_review(application=created[p.pk], reviewer=head_of(p),
                                    decision="reject", reason=reason)

    # Class review in bulk, one call per homeroom (its head teacher); then the principal.
    reviewed = by_state[S.CLASS_APPROVED] + by_state[S.APPROVED]
    by_homeroom: dict[int, list[Student]] = defaultdict(list)
    for p in reviewed:
        by_homeroom[p.homeroom_id].append(p)
    for members in by_homeroom.values():
        services.application_review_bulk(applications=[created[p.pk] for p in members],
                                         reviewer=head_of(members[0]))
    if by_state[S.APPROVED]:
        # The demo school has run since the term began: its children are enrolled from the
        # first day, so this week is whole whichever day the demo is built.
        services.application_decide_bulk(
            applications=[created[p.pk] for p in by_state[S.APPROVED]], principal=principal,
            start_date=term.start)
    return Counter({state: len(members) for state, members in by_state.items()})


def head_of(pupil: Student) -> User:
    return pupil.homeroom.head_teacher.user


# --- leaves and a withdrawal -----------------------------------------------------------------


def next_service_days(term: Term, today: datetime.date, n: int) -> list[ServiceDay]:
    """The next `n` service days after today (a month ahead is plenty)."""
    return service_days(term, today + datetime.timedelta(days=1),
                        today + datetime.timedelta(days=31))[:n]


def seed_leaves_and_withdrawal(term: Term, exclude: set[int]) -> tuple[int, int]:
    """A few leaves and one pending withdrawal on ordinary pupils' enrolments, once per term."""
    today = timezone.localdate()
    enrolments = list(Enrolment.objects.filter(term=term, status=Enrolment.Status.ACTIVE)
                      .exclude(student_id__in=exclude)
                      .select_related("student", "application__applicant", "term__school")
                      .prefetch_related("slots").order_by("student__student_no"))
    if not enrolments:
        return 0, 0
    leaves = withdrawals = 0
    if not Leave.objects.filter(enrolment__term=term).exists():
        days = next_service_days(term, today, 2)
        plans = [(0, 0, AFTERNOON), (1, 0, NOON), (2, 1, AFTERNOON), (3, 1, AFTERNOON)]
        candidates = enrolments[5::37]
        for (n, d, kind), enrolment in zip(plans, candidates, strict=False):
            if d >= len(days):
                continue
            slot = next((s for s in enrolment.slots.all()
                         if s.weekday == days[d].weekday and s.kind == kind), None)
            slot = slot or next((s for s in enrolment.slots.all()
                                 if s.weekday == days[d].weekday), None)
            if slot is None:
                continue
            services.leave_report(enrolment=enrolment, user=enrolment.application.applicant,
                                  date=days[d].date, slot=slot, reason=LEAVE_REASONS[n])
            leaves += 1
    if not Withdrawal.objects.filter(enrolment__term=term).exists():
        enrolment = enrolments[len(enrolments) // 2]
        effective = services.withdrawal_earliest(enrolment, today)
        effective += datetime.timedelta(days=(7 - effective.weekday()) % 7)  # a Monday
        if effective <= term.end:
            services.withdrawal_request(enrolment=enrolment,
                                        user=enrolment.application.applicant,
                                        effective_date=effective, reason=WITHDRAWAL_REASON)
            withdrawals = 1
    return leaves, withdrawals


# --- entry point -----------------------------------------------------------------------------


def seed(*, stdout=None) -> dict:
    """Fill the demo schools' current terms; returns the primary school's counts by status."""
    today = timezone.localdate()
    schools = {s.code: s for s in School.objects.filter(code__in=[PRIMARY_CODE, MIDDLE_CODE])}
    primary = schools.get(PRIMARY_CODE)
    term = current_term(primary.pk, today) if primary else None
    if term is None:
        return {}
    principal = User.objects.get(username="principal")
    plan, published = ensure_plan(term, principal, today)
    middle = schools.get(MIDDLE_CODE)
    middle_term = current_term(middle.pk, today) if middle else None
    if middle_term is not None:
        ensure_plan(middle_term, User.objects.get(username="principal2"), today)

    parent_children = list(children_of(User.objects.get(username="parent")))
    parent2_children = list(children_of(User.objects.get(username="parent2")))
    newcomer, enrolled = parent_children[0], parent_children[1]
    waiting = parent2_children[0]
    fixed = {enrolled.pk: (S.APPROVED, (NOON, AFTERNOON)),
             waiting.pk: (S.SUBMITTED, (AFTERNOON,))}
    created = seed_applications(term, plan, principal, fixed=fixed,
                                queue_homeroom_id=newcomer.homeroom_id, skip={newcomer.pk})
    demo_children = {newcomer.pk, enrolled.pk, waiting.pk}
    leaves, withdrawals = seed_leaves_and_withdrawal(term, demo_children)

    counts = {state: 0 for state in S.values}
    counts.update(Counter(term.applications.values_list("status", flat=True)))
    result = {
        **counts,
        "applications": sum(counts.values()),
        "created": sum(created.values()),
        "enrolments": Enrolment.objects.filter(term=term, status=Enrolment.Status.ACTIVE).count(),
        "leaves": Leave.objects.filter(enrolment__term=term).count(),
        "withdrawals_pending": Withdrawal.objects.filter(
            enrolment__term=term, status=Withdrawal.Status.REQUESTED).count(),
        "plan_published": published,
    }
    if stdout is not None:
        labels = dict(S.choices)
        by_state = "，".join(f"{labels[s]} {counts[s]}" for s in S.values)
        stdout.write(
            f"{primary.name} {term.name} 报名：方案第{plan.version}版"
            f"{'（本次公示）' if published else ''}，共 {result['applications']} 份"
            f"（本次新增 {result['created']}）：{by_state}；"
            f"在读 {result['enrolments']} 人，请假 {result['leaves']} 条，"
            f"待审批退出 {result['withdrawals_pending']} 份\n")
    return result
