"""What an import writes, worked out in memory and then written in bulk.

Everything the rows are checked against is read up front, one query each, keyed by natural
key: the school's grades and homerooms, its students with the numbers on file, its staff with
the head-teacher names on file, the guardians and logins behind the phone numbers on file, and
the guardian links of those students. Each valid row is then applied to that picture in sheet
order, so a row sees what the rows above it added (a guardian created for an older sibling, a
homeroom opened two rows up), as when every row was saved in turn. `write` saves the result in
batches, inside the import's transaction: the number of queries does not grow with the rows.
"""

from collections import Counter

from django.db.models import Exists, OuterRef

from ..models import Grade, Guardian, GuardianStudent, Homeroom, School, Staff, Student, User

BATCH_SIZE = 1000

# The Student columns an import sets; an update writes these and leaves the rest alone.
STUDENT_FIELDS = ["grade", "homeroom", "name", "gender", "boarding", "bus_rider",
                  "priority_categories"]


class RosterPlan:
    def __init__(self, school: School):
        self.school = school
        self.stats: Counter = Counter()
        self.students: dict[str, Student] = {}
        self.guardians: dict[str, Guardian] = {}
        self._grades: dict[int, Grade] = {}
        self._homerooms: dict[tuple[int, str], Homeroom] = {}
        self._staff_named: dict[str, list[Staff]] = {}
        self._users: dict[str, User] = {}
        self._usernames_of_guardians: set[str] = set()
        self._links: set[tuple[int, int]] = set()
        self._linked_students: set[int] = set()
        self._new_grades: list[Grade] = []
        self._new_homerooms: list[Homeroom] = []
        self._changed_homerooms: dict[int, Homeroom] = {}
        self._new_students: list[Student] = []
        self._changed_students: list[Student] = []
        self._new_users: list[User] = []
        self._new_guardians: list[Guardian] = []
        self._new_links: list[GuardianStudent] = []

    def load(self, *, student_nos: set[str], phones: set[str], teacher_names: set[str]) -> None:
        grades_by_pk = {grade.pk: grade for grade in Grade.objects.filter(school=self.school)}
        self._grades = {grade.number: grade for grade in grades_by_pk.values()}
        for homeroom in Homeroom.objects.filter(school=self.school):
            if (grade := grades_by_pk.get(homeroom.grade_id)) is not None:
                self._homerooms[grade.number, homeroom.name] = homeroom
        self.students = {student.student_no: student for student in Student.objects.filter(
            school=self.school, student_no__in=student_nos)}
        for staff in Staff.objects.filter(school=self.school, name__in=teacher_names):
            self._staff_named.setdefault(staff.name, []).append(staff)
        self.guardians = {guardian.phone: guardian
                          for guardian in Guardian.objects.filter(phone__in=phones)}
        users = list(User.objects.filter(username__in=phones).annotate(
            has_guardian=Exists(Guardian.objects.filter(user=OuterRef("pk")))))
        self._users = {user.username: user for user in users}
        self._usernames_of_guardians = {user.username for user in users if user.has_guardian}
        self._links = set(GuardianStudent.objects.filter(
            student__in=[student.pk for student in self.students.values()],
        ).values_list("guardian_id", "student_id"))
        self._linked_students = {student_pk for _guardian_pk, student_pk in self._links}

    # --- what a row sees ---

    def head_teacher(self, name: str) -> Staff | None:
        """The school's staff member of that name; none when nobody or several have it."""
        staff = self._staff_named.get(name, [])
        return staff[0] if len(staff) == 1 else None

    def login_taken(self, phone: str) -> bool:
        """The login named after this phone already belongs to a guardian (of another phone)."""
        return phone in self._usernames_of_guardians

    # --- a valid row joins the plan ---

    def add_student(self, student: Student, *, new: bool, grade_number: int,
                    homeroom_name: str, head_teacher: Staff | None,
                    guardian: dict | None) -> None:
        """Grades and homerooms are opened when missing; a homeroom takes the head teacher of
        its last row that names one."""
        grade = self._grades.get(grade_number)
        if grade is None:
            grade = Grade(school=self.school, number=grade_number, name=f"{grade_number}年级")
            self._grades[grade_number] = grade
            self._new_grades.append(grade)
            self.stats["new_grades"] += 1
        homeroom = self._homerooms.get((grade_number, homeroom_name))
        if homeroom is None:
            homeroom = Homeroom(school=self.school, grade=grade, name=homeroom_name,
                                head_teacher=head_teacher)
            self._homerooms[grade_number, homeroom_name] = homeroom
            self._new_homerooms.append(homeroom)
            self.stats["new_homerooms"] += 1
        elif head_teacher and homeroom.head_teacher_id != head_teacher.pk:
            homeroom.head_teacher = head_teacher
            if homeroom.pk is not None:
                self._changed_homerooms[homeroom.pk] = homeroom
        student.grade = grade
        student.homeroom = homeroom
        (self._new_students if new else self._changed_students).append(student)
        if guardian:
            self._link(student, **guardian)

    def _link(self, student: Student, *, name: str, phone: str, relation: str) -> None:
        """A guardian is found by phone or created (with a login named after the phone, or the
        existing login of that name); an existing link is left as it is."""
        guardian = self.guardians.get(phone)
        if guardian is None:
            user = self._users.get(phone)
            if user is None:
                user = User(username=phone, display_name=name)
                user.set_unusable_password()
                self._users[phone] = user
                self._new_users.append(user)
            guardian = Guardian(user=user, name=name, phone=phone)
            self.guardians[phone] = guardian
            self._usernames_of_guardians.add(user.username)
            self._new_guardians.append(guardian)
            self.stats["new_guardians"] += 1
        if (guardian.pk, student.pk) in self._links:
            return
        # A student's first guardian is the primary contact.
        self._new_links.append(GuardianStudent(
            guardian=guardian, student=student, relation=relation,
            is_primary=student.pk is None or student.pk not in self._linked_students))
        self.stats["new_links"] += 1

    # --- writing ---

    def write(self) -> None:
        """Save the plan, parents before children so that every foreign key has its key."""
        Grade.objects.bulk_create(self._new_grades, batch_size=BATCH_SIZE)
        Homeroom.objects.bulk_create(self._new_homerooms, batch_size=BATCH_SIZE)
        Homeroom.objects.bulk_update(self._changed_homerooms.values(), ["head_teacher"],
                                     batch_size=BATCH_SIZE)
        Student.objects.bulk_create(self._new_students, batch_size=BATCH_SIZE)
        Student.objects.bulk_update(self._changed_students, STUDENT_FIELDS,
                                    batch_size=BATCH_SIZE)
        User.objects.bulk_create(self._new_users, batch_size=BATCH_SIZE)
        Guardian.objects.bulk_create(self._new_guardians, batch_size=BATCH_SIZE)
        GuardianStudent.objects.bulk_create(self._new_links, batch_size=BATCH_SIZE)
