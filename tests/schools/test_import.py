"""Roster import from XLSX: preview, confirm (all or nothing), formulas kept as text, export,
and who may do it."""

import math
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schools.importing import HEADERS
from schools.importing.plan import BATCH_SIZE
from schools.models import (
    AuditEntry,
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    PriorityCategory,
    Role,
    RosterImport,
    Student,
    User,
)
from tests import factories as f

UPLOAD = reverse("roster_import:upload")


def xlsx(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers] if isinstance(row, dict) else row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def student_row(**values):
    row = {"年级": 3, "班级": "1班", "学号": "S0001", "姓名": "李四", "性别": "男",
           "寄宿": "否", "乘坐校车": "否"}
    row.update(values)
    return row


def upload(client, content, name="名册.xlsx", school=None):
    url = UPLOAD + (f"?school={school.pk}" if school else "")
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def confirm(client, roster_import):
    return client.post(reverse("roster_import:confirm", args=[roster_import.pk]))


def counts():
    return (Student.objects.count(), Guardian.objects.count(), Homeroom.objects.count(),
            Grade.objects.count(), GuardianStudent.objects.count())


@pytest.fixture
def principal_client(client, cast):
    client.force_login(cast.principal)
    return client


def test_good_file_previews_then_imports(principal_client, cast):
    content = xlsx([
        student_row(学号="S0001", 姓名="李四", 乘坐校车="是", 优先类别="双职工家庭、left_behind",
                    监护人姓名="李强", 监护人手机=13900139000, 关系="父亲"),
        student_row(学号="S0002", 姓名="李五", 班级="5班", 班主任="王老师", 性别="女",
                    监护人姓名="李强", 监护人手机="13900139000", 关系="父亲"),
        student_row(学号=2026999, 姓名="王六", 年级=4.0, 班级="2班", 寄宿="是",
                    监护人姓名="王芳", 监护人手机="13700137000", 关系="外祖父母"),
    ])
    before = counts()
    response = upload(principal_client, content)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary["new"], summary["update"], summary["invalid"]) == (3, 0, 0)
    assert summary["errors"] == []
    assert [row["type"] for row in summary["rows"]] == ["new", "new", "new"]
    assert [row["row"] for row in summary["rows"]] == [2, 3, 4]
    assert "确认导入" in response.content.decode()
    assert counts() == before  # the preview writes nothing but the stored file
    roster_import = response.context["roster_import"]
    assert roster_import.status == RosterImport.Status.PREVIEWED

    response = confirm(principal_client, roster_import)
    assert response.status_code == 302
    roster_import.refresh_from_db()
    assert roster_import.status == RosterImport.Status.IMPORTED

    s1 = Student.objects.get(school=cast.school, student_no="S0001")
    assert s1.homeroom == cast.homeroom and s1.gender == Student.Gender.MALE
    assert s1.bus_rider and not s1.boarding
    assert s1.priority_categories == [PriorityCategory.DUAL_WORKING,
                                      PriorityCategory.LEFT_BEHIND]
    s2 = Student.objects.get(school=cast.school, student_no="S0002")
    assert s2.homeroom.name == "5班" and s2.homeroom.grade == cast.homeroom.grade
    assert s2.homeroom.head_teacher.user == cast.homeroom_teacher
    s3 = Student.objects.get(school=cast.school, student_no="2026999")
    assert s3.grade.number == 4 and s3.grade.name == "4年级" and s3.boarding

    guardian = Guardian.objects.get(phone="13900139000")
    assert guardian.name == "李强" and guardian.user.username == "13900139000"
    assert guardian.user.display_name == "李强" and not guardian.user.has_usable_password()
    assert set(guardian.students.all()) == {s1, s2}
    assert {link.relation for link in guardian.links.all()} == {"father"}
    assert GuardianStudent.objects.get(student=s3).relation == "grandparent"

    entry = AuditEntry.objects.get(action="schools.roster.imported")
    assert entry.actor == cast.principal and entry.school == cast.school
    assert entry.data["new"] == 3 and entry.data["new_guardians"] == 2
    assert entry.data["new_homerooms"] == 2

    # The same file cannot be imported twice.
    assert confirm(principal_client, roster_import).status_code == 409
    assert Student.objects.filter(school=cast.school).count() == 6


def test_existing_student_number_updates_and_links_existing_guardian(principal_client, cast):
    content = xlsx([student_row(学号=cast.child.student_no, 姓名="张小明", 班级="2班",
                                监护人姓名="改名无效", 监护人手机=cast.guardian.phone,
                                关系="母亲")])
    response = upload(principal_client, content)
    summary = response.context["summary"]
    assert (summary["new"], summary["update"]) == (0, 1)
    assert confirm(principal_client, response.context["roster_import"]).status_code == 302
    cast.child.refresh_from_db()
    assert cast.child.homeroom == cast.homeroom2
    cast.guardian.refresh_from_db()
    assert cast.guardian.name == "张伟"  # an existing guardian is found, not renamed
    assert GuardianStudent.objects.filter(guardian=cast.guardian).count() == 2


def test_bad_rows_are_all_listed_and_nothing_is_imported(principal_client, cast):
    content = xlsx([
        student_row(学号="S1", 班级="9班", 监护人姓名="甲", 监护人手机="12345", 关系="母亲"),
        student_row(学号="S2", 年级=12),
        student_row(学号="S3", 姓名=""),
        student_row(学号="S4", 班级="8班", 监护人姓名="乙", 监护人手机="13600136000",
                    关系="母亲"),
        student_row(学号="S5", 性别="未知", 关系="叔叔", 监护人手机="13600136001",
                    监护人姓名="丙"),
    ])
    before = counts()
    response = upload(principal_client, content)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["invalid"] == 4 and summary["new"] == 1
    errors = summary["errors"]
    assert "第2行 监护人手机：手机号码格式不正确" in errors
    assert any(e.startswith("第3行 年级：") for e in errors)
    assert "第4行 姓名：不能为空" in errors
    assert any(e.startswith("第6行 性别：") for e in errors)
    assert any(e.startswith("第6行 关系：") for e in errors)
    html = response.content.decode()
    assert "第2行 监护人手机：手机号码格式不正确" in html and "row-error" in html
    assert "确认导入" not in html
    assert counts() == before

    roster_import = response.context["roster_import"]
    assert roster_import.status == RosterImport.Status.FAILED
    assert confirm(principal_client, roster_import).status_code == 409
    assert counts() == before
    assert not AuditEntry.objects.filter(action="schools.roster.imported").exists()


def test_rows_failing_at_confirm_roll_everything_back(principal_client, cast):
    content = xlsx([student_row(学号="S1", 班级="9班"), student_row(学号="S2", 班级="7班")])
    response = upload(principal_client, content)
    roster_import = response.context["roster_import"]
    assert roster_import.status == RosterImport.Status.PREVIEWED
    # Confirm re-checks the stored file; a row that fails then (here: a duplicate number)
    # rolls back the rows already written.
    RosterImport.objects.filter(pk=roster_import.pk).update(content=xlsx([
        student_row(学号="S1", 班级="9班"), student_row(学号="S1", 班级="7班")]))
    before = counts()
    response = confirm(principal_client, roster_import)
    assert response.status_code == 400
    assert "第3行 学号：与第2行的学号重复" in response.content.decode()
    assert counts() == before
    roster_import.refresh_from_db()
    assert roster_import.status == RosterImport.Status.FAILED


def test_formula_cells_are_kept_as_text_and_exported_as_text(principal_client, cast):
    content = xlsx([student_row(学号="F1", 姓名="=1+2"),
                    student_row(学号="F2", 姓名="@SUM(A1)"),
                    student_row(学号="F3", 姓名="+1", 班级="=A1")])
    check = openpyxl.load_workbook(BytesIO(content))
    assert check.active["E2"].data_type == "f"  # openpyxl really wrote a formula
    response = upload(principal_client, content)
    assert response.context["summary"]["new"] == 3
    assert confirm(principal_client, response.context["roster_import"]).status_code == 302
    assert Student.objects.get(student_no="F1").name == "=1+2"
    assert Student.objects.get(student_no="F2").name == "@SUM(A1)"
    assert Student.objects.get(student_no="F3").homeroom.name == "=A1"

    response = principal_client.get(reverse("roster_import:export"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == HEADERS
    by_no = {row[3].value: row for row in sheet.iter_rows(min_row=2)}
    name_cell = by_no["F1"][4]
    assert name_cell.data_type == "s" and name_cell.value == "=1+2"
    assert by_no["F2"][4].value == "@SUM(A1)" and by_no["F2"][4].data_type == "s"
    assert by_no["F3"][1].value == "=A1" and by_no["F3"][1].data_type == "s"
    # Other schools' students are not exported.
    assert cast.other_school_child.student_no not in by_no
    assert cast.child.student_no in by_no
    child_row = by_no[cast.child.student_no]
    assert child_row[10].value == cast.guardian.phone and child_row[11].value == "母亲"


def test_formula_phone_is_a_row_error(principal_client, cast):
    content = xlsx([student_row(监护人姓名="甲", 监护人手机="=1+1", 关系="父亲")])
    response = upload(principal_client, content)
    assert response.context["summary"]["errors"] == ["第2行 监护人手机：手机号码格式不正确"]


def test_export_round_trips(principal_client, cast):
    exported = principal_client.get(reverse("roster_import:export")).content
    response = upload(principal_client, exported, name="export.xlsx")
    summary = response.context["summary"]
    assert summary["errors"] == []
    assert summary["update"] == 3 and summary["new"] == 0


@pytest.mark.parametrize("content, message", [
    (b"not a spreadsheet", "无法读取文件"),
    (b"", "文件是空的"),
])
def test_unreadable_files_are_refused(principal_client, cast, content, message):
    response = upload(principal_client, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RosterImport.objects.exists()


def test_wrong_headers_and_empty_sheets_are_refused(principal_client, cast):
    response = upload(principal_client, xlsx([["1", "2"]], headers=["Name", "Class"]))
    assert response.status_code == 400
    assert "缺少列：年级、班级、学号、姓名" in response.content.decode()
    response = upload(principal_client, xlsx([]))
    assert response.status_code == 400
    assert "没有学生数据" in response.content.decode()
    response = upload(principal_client, b"x", name="roster.csv")
    assert response.status_code == 400
    assert ".xlsx" in response.content.decode()
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize("who", ["principal2", "parent", "homeroom_teacher", "teacher",
                                 "finance"])
def test_others_get_404(client, cast, who):
    roster_import = RosterImport.objects.create(
        school=cast.school, uploaded_by=cast.principal, filename="x.xlsx",
        content=xlsx([student_row()]))
    client.force_login(getattr(cast, who))
    before = counts()
    if who == "principal2":  # a principal, but of another school
        assert client.get(UPLOAD + f"?school={cast.school.pk}").status_code == 404
        assert client.get(reverse("roster_import:export")
                          + f"?school={cast.school.pk}").status_code == 404
    else:
        assert client.get(UPLOAD).status_code == 404
        assert client.get(reverse("roster_import:export")).status_code == 404
        assert client.get(reverse("roster_import:template")).status_code == 404
    assert confirm(client, roster_import).status_code == 404
    assert counts() == before


def test_login_required(client, cast):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "login" in response["Location"]


def test_office_member_of_several_schools_picks_one(client, cast):
    office = f.UserFactory(username="office")
    f.grant(office, Role.OFFICE, school=cast.school)
    f.grant(office, Role.OFFICE, school=cast.other_school)
    client.force_login(office)
    response = client.get(UPLOAD)
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.school.name in html and cast.other_school.name in html
    assert response.context["school"] is None
    response = upload(client, xlsx([student_row(学号="O1")]), school=cast.other_school)
    roster_import = response.context["roster_import"]
    assert roster_import.school == cast.other_school
    assert confirm(client, roster_import).status_code == 302
    student = Student.objects.get(student_no="O1")
    assert student.school == cast.other_school
    assert student.homeroom.school == cast.other_school
    assert client.get(UPLOAD + f"?school={cast.far_school.pk}").status_code == 404


def test_upload_page_and_template(principal_client, cast):
    response = principal_client.get(UPLOAD)
    assert response.status_code == 200
    assert "下载导入模板" in response.content.decode()
    response = principal_client.get(reverse("roster_import:template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["学生名册", "说明"]
    sheet = workbook["学生名册"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.max_row == 1  # blank: the example lives on the 说明 sheet
    assert "13800138000" in [c.value for row in workbook["说明"].iter_rows() for c in row]
    # The blank template uploads as "no data", not as a crash.
    response = upload(principal_client, response.content)
    assert response.status_code == 400


def test_rows_see_what_the_rows_above_them_added(principal_client, cast):
    lone_login = f.UserFactory(username="13300133000", display_name="旧名")
    f.GuardianFactory(user=f.UserFactory(username="13300133001"), phone="13300133999")
    content = xlsx([
        student_row(学号="R1", 班级="6班", 监护人姓名="李强", 监护人手机="13900139000",
                    关系="父亲"),
        # R1's guardian, created a row above: found by phone, so no name is needed.
        student_row(学号="R2", 班级="6班", 班主任="王老师", 监护人手机="13900139000",
                    关系="父亲"),
        student_row(学号="R3", 班级="6班", 班主任="李老师"),
        student_row(学号="R4", 班级="6班", 监护人姓名="独", 监护人手机="13300133000",
                    关系="母亲"),
    ])
    response = upload(principal_client, content)
    summary = response.context["summary"]
    assert summary["errors"] == []
    assert (summary["new_homerooms"], summary["new_guardians"], summary["new_links"]) == (1, 2, 3)
    assert confirm(principal_client, response.context["roster_import"]).status_code == 302

    homeroom = Homeroom.objects.get(school=cast.school, grade=cast.homeroom.grade, name="6班")
    assert homeroom.head_teacher.user == cast.homeroom_teacher2  # the last row naming one
    guardian = Guardian.objects.get(phone="13900139000")
    assert sorted(guardian.students.values_list("student_no", flat=True)) == ["R1", "R2"]
    assert all(link.is_primary for link in guardian.links.all())
    # A login named after the phone but nobody's guardian yet is taken over, not renamed.
    assert Guardian.objects.get(phone="13300133000").user == lone_login
    lone_login.refresh_from_db()
    assert lone_login.display_name == "旧名"

    # A login named after the phone that is already another number's guardian is refused.
    response = upload(principal_client, xlsx([
        student_row(学号="R5", 监护人姓名="甲", 监护人手机="13300133001", 关系="母亲")]))
    assert response.context["summary"]["errors"] == ["第2行 监护人手机：该手机号码已被其他账号使用"]


# The queries of one upload (preview) or one confirm through the pages, whatever the number of
# rows: session and permission checks; the lookups read up front (grades, homerooms, students,
# staff, guardians, logins, links); the savepoints of the run; the stored file; and on confirm
# the lock, the audit row and one INSERT or UPDATE per table and per batch of BATCH_SIZE rows.
# Measured: preview 24 queries at either size; confirm 33 for 30 rows and 38 for 3,000 (three
# batches of students and links, two of guardians and logins). 40 is a 3,000-row confirm that
# also opens grades and homerooms and changes a head teacher.
MAX_IMPORT_QUERIES = 40
# Tables written with one INSERT per batch whose row count follows the file's: students,
# logins, guardians, links.
BATCHED_TABLES = 4


def roster(size: int, *, prefix: str, first_phone: int) -> bytes:
    """A valid roster of `size` new students over grades 1–6 and ten homerooms a grade, two
    siblings per guardian; every seventh row names a head teacher."""
    return xlsx([
        student_row(学号=f"{prefix}{i:05d}", 姓名=f"学生{i}", 年级=1 + i % 6,
                    班级=f"{1 + i // 6 % 10}班", 班主任="王老师" if i % 7 == 0 else "",
                    性别="女" if i % 2 else "男", 优先类别="留守儿童" if i % 5 == 0 else "",
                    监护人姓名=f"家长{i // 2}", 监护人手机=str(first_phone + i // 2),
                    关系="母亲")
        for i in range(size)])


def queries_of(request, *args) -> tuple:
    """The response of `request(*args)`, one request, and the number of queries it ran.
    The log is emptied first: the test client empties it when a request starts, which would
    skew the count CaptureQueriesContext takes from the log's length before and after."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = request(*args)
    return response, len(captured)


def test_import_queries_do_not_grow_with_the_rows(principal_client, cast):
    previews, confirms = {}, {}
    for size, prefix, first_phone in ((30, "A", 13500000000), (3000, "B", 13600000000)):
        students, guardians, users, links = (Student.objects.count(), Guardian.objects.count(),
                                             User.objects.count(),
                                             GuardianStudent.objects.count())
        content = roster(size, prefix=prefix, first_phone=first_phone)
        response, previews[size] = queries_of(upload, principal_client, content)
        assert response.status_code == 200
        summary = response.context["summary"]
        assert summary["errors"] == [] and summary["new"] == size
        roster_import = response.context["roster_import"]
        response, confirms[size] = queries_of(confirm, principal_client, roster_import)
        assert response.status_code == 302

        assert Student.objects.filter(student_no__startswith=prefix).count() == size
        assert Student.objects.count() == students + size
        assert Guardian.objects.count() == guardians + size // 2
        assert User.objects.count() == users + size // 2
        assert GuardianStudent.objects.count() == links + size
        assert GuardianStudent.objects.filter(student__student_no__startswith=prefix,
                                              is_primary=True).count() == size

    # One query per row would put ~2,970 between the two sizes; only the number of
    # INSERT batches may differ.
    extra_batches = BATCHED_TABLES * (math.ceil(3000 / BATCH_SIZE) - 1)
    assert previews[3000] == previews[30], previews
    assert confirms[3000] - confirms[30] <= extra_batches, confirms
    assert max(*previews.values(), *confirms.values()) <= MAX_IMPORT_QUERIES, (previews,
                                                                               confirms)
