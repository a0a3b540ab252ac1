"""The import-export resource of a school's roster: row checks on import, columns on export."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import resources
from import_export.fields import Field

from ..models import Guardian, GuardianStudent, Homeroom, School, Student
from .columns import COLUMNS, GRADE_RE, PHONE_RE, RELATION_EXPORT, RELATION_LABELS, plain_phone
from .plan import RosterPlan
from .reading import cell_text
from .widgets import GenderWidget, PriorityWidget, TextWidget, YesNoWidget


class RosterResource(resources.ModelResource):
    """Students of one school. Grades and homerooms are created when missing, guardians are
    found or created by phone; nothing outside `school` is read for update or written.

    No row is saved on its own: a valid row joins the plan (`self.plan`), which is written in
    bulk once every row has been checked, and only when no row failed."""

    grade = Field(column_name=COLUMNS["grade"], readonly=True)
    homeroom = Field(column_name=COLUMNS["homeroom"], readonly=True)
    head_teacher = Field(column_name=COLUMNS["head_teacher"], readonly=True)
    student_no = Field(attribute="student_no", column_name=COLUMNS["student_no"],
                       widget=TextWidget())
    name = Field(attribute="name", column_name=COLUMNS["name"], widget=TextWidget())
    gender = Field(attribute="gender", column_name=COLUMNS["gender"], widget=GenderWidget())
    boarding = Field(attribute="boarding", column_name=COLUMNS["boarding"],
                     widget=YesNoWidget())
    bus_rider = Field(attribute="bus_rider", column_name=COLUMNS["bus_rider"],
                      widget=YesNoWidget())
    priority_categories = Field(attribute="priority_categories",
                                column_name=COLUMNS["priority_categories"],
                                widget=PriorityWidget())
    guardian_name = Field(column_name=COLUMNS["guardian_name"], readonly=True)
    guardian_phone = Field(column_name=COLUMNS["guardian_phone"], readonly=True)
    relation = Field(column_name=COLUMNS["relation"], readonly=True)

    class Meta:
        model = Student
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)
        import_id_fields = ("student_no",)
        use_transactions = True
        # Rows only join the plan (save_instance), so the savepoint import-export otherwise
        # opens around every row has nothing to undo; use_bulk is what turns it off.
        use_bulk = True
        clean_model_instances = True
        skip_diff = True
        report_skipped = True

    def __init__(self, *, school: School, sheet_rows: list[int] | None = None):
        super().__init__()
        self.school = school
        self.sheet_rows = sheet_rows or []
        self.plan = RosterPlan(school)
        self._first_row_of: dict[str, int] = {}
        self._row_errors: dict[str, list[str]] = {}
        self._row_plan: dict = {}

    # Scope: the export reads only this school's students.
    def get_queryset(self):
        return (Student.objects.filter(school=self.school)
                .select_related("grade", "homeroom__head_teacher")
                .prefetch_related("guardian_links__guardian"))

    def sheet_row(self, row_number: int) -> int:
        if 0 < row_number <= len(self.sheet_rows):
            return self.sheet_rows[row_number - 1]
        return row_number + 1

    # --- import hooks ---

    def before_import(self, dataset, **kwargs):
        self._first_row_of = {}
        phones, teacher_names = set(), set()
        for number, row in enumerate(dataset.dict, start=1):
            student_no = cell_text(row.get(COLUMNS["student_no"]))
            if student_no:
                self._first_row_of.setdefault(student_no, number)
            phone = plain_phone(cell_text(row.get(COLUMNS["guardian_phone"])))
            if PHONE_RE.match(phone):
                phones.add(phone)
            if teacher_name := cell_text(row.get(COLUMNS["head_teacher"])):
                teacher_names.add(teacher_name)
        self.plan = RosterPlan(self.school)
        self.plan.load(student_nos=set(self._first_row_of), phones=phones,
                       teacher_names=teacher_names)

    def get_instance(self, instance_loader, row):
        return self.plan.students.get(self.fields["student_no"].clean(row))

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        row_result.number = kwargs.get("row_number")
        row_result.summary_values = {
            "student_no": cell_text(row.get(COLUMNS["student_no"])),
            "name": cell_text(row.get(COLUMNS["name"])),
            "grade": cell_text(row.get(COLUMNS["grade"])),
            "homeroom": cell_text(row.get(COLUMNS["homeroom"])),
        }
        return row_result

    def before_import_row(self, row, row_number=None, **kwargs):
        """Check and resolve the columns that are not plain Student fields. Errors are kept
        and raised together with the field errors (import_instance), one list per column."""
        errors: dict[str, list[str]] = {}
        plan: dict = {}

        def value(key):
            return cell_text(row.get(COLUMNS[key]))

        student_no = value("student_no")
        if not student_no:
            errors["student_no"] = [_("不能为空")]
        elif (first := self._first_row_of.get(student_no)) is not None and first != row_number:
            errors["student_no"] = [_("与第%(row)s行的学号重复")
                                    % {"row": self.sheet_row(first)}]
        if not value("name"):
            errors["name"] = [_("不能为空")]

        match = GRADE_RE.match(value("grade"))
        grade_number = int(match.group(1)) if match else None
        if grade_number is None or not 1 <= grade_number <= 9:
            errors["grade"] = [_("须为 1 到 9 的数字（如 3）")]

        homeroom_name = value("homeroom")
        if homeroom_name.isdigit():
            homeroom_name += "班"
        if not homeroom_name:
            errors["homeroom"] = [_("不能为空")]
        elif len(homeroom_name) > Homeroom._meta.get_field("name").max_length:
            errors["homeroom"] = [_("太长")]
        plan["grade_number"] = grade_number
        plan["homeroom_name"] = homeroom_name

        teacher_name = value("head_teacher")
        # No match or an ambiguous name: leave unset.
        plan["head_teacher"] = self.plan.head_teacher(teacher_name) if teacher_name else None

        self._plan_guardian(value("guardian_name"), value("guardian_phone"),
                            value("relation"), plan, errors)
        self._row_errors = errors
        self._row_plan = plan

    def _plan_guardian(self, name, phone, relation_text, plan, errors):
        plan["guardian"] = None
        if not (name or phone or relation_text):
            return
        phone = plain_phone(phone)
        if not phone:
            errors["guardian_phone"] = [_("填写了监护人，手机号码不能为空")]
        elif not PHONE_RE.match(phone):
            errors["guardian_phone"] = [_("手机号码格式不正确")]
        relation = RELATION_LABELS.get(relation_text)
        if relation is None and relation_text in GuardianStudent.Relation.values:
            relation = relation_text
        if not relation_text:
            errors["relation"] = [_("不能为空")]
        elif relation is None:
            errors["relation"] = [_("只能填父亲、母亲、祖父母、外祖父母或其他")]
        if len(name) > Guardian._meta.get_field("name").max_length:
            errors["guardian_name"] = [_("太长")]
        if "guardian_phone" in errors:
            return
        if phone not in self.plan.guardians:
            if not name:
                errors["guardian_name"] = [_("新监护人的姓名不能为空")]
            if self.plan.login_taken(phone):
                errors["guardian_phone"] = [_("该手机号码已被其他账号使用")]
        plan["guardian"] = {"name": name, "phone": phone, "relation": relation}

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            instance.school = self.school

    def import_instance(self, instance, row, **kwargs):
        errors = {key: list(messages) for key, messages in self._row_errors.items()}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Grade and homeroom are set when the row joins the plan (they may still have to be
        # created) and the school is ours. A number's uniqueness is settled in memory: a repeat
        # in the file is a row error, a number on file is an update. So full_clean asks the
        # database nothing.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "school", "grade", "homeroom"],
                                validate_unique=False, validate_constraints=False)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        plan = self._row_plan
        self.plan.add_student(instance, new=is_create, grade_number=plan["grade_number"],
                              homeroom_name=plan["homeroom_name"],
                              head_teacher=plan["head_teacher"], guardian=plan["guardian"])

    def after_import(self, dataset, result, **kwargs):
        # A failed row makes import_data roll everything back: nothing to write then.
        if not kwargs.get("dry_run") and not (result.has_errors()
                                              or result.has_validation_errors()):
            self.plan.write()
        super().after_import(dataset, result, **kwargs)

    # --- export ---

    def _primary_link(self, student):
        links = sorted(student.guardian_links.all(), key=lambda link: (not link.is_primary,
                                                                      link.pk))
        return links[0] if links else None

    def dehydrate_grade(self, student):
        return str(student.grade.number)

    def dehydrate_homeroom(self, student):
        return student.homeroom.name

    def dehydrate_head_teacher(self, student):
        teacher = student.homeroom.head_teacher
        return teacher.name if teacher else ""

    def dehydrate_guardian_name(self, student):
        link = self._primary_link(student)
        return link.guardian.name if link else ""

    def dehydrate_guardian_phone(self, student):
        link = self._primary_link(student)
        return link.guardian.phone if link else ""

    def dehydrate_relation(self, student):
        link = self._primary_link(student)
        return RELATION_EXPORT.get(link.relation, "") if link else ""
