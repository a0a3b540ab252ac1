from schools.selectors import roles_of, schools_visible_to, students_visible_to


def test_each_role_sees_only_its_own_students(cast):
    assert set(students_visible_to(cast.parent)) == {cast.child, cast.sibling}
    assert set(students_visible_to(cast.homeroom_teacher)) == {cast.child}
    assert set(students_visible_to(cast.principal)) == {cast.child, cast.sibling,
                                                        cast.other_child}
    assert set(students_visible_to(cast.principal2)) == {cast.other_school_child}
    assert set(students_visible_to(cast.officer)) == {
        cast.child, cast.sibling, cast.other_child, cast.other_school_child}
    assert set(students_visible_to(cast.officer2)) == {cast.far_child}
    assert not students_visible_to(cast.teacher).exists()


def test_guardian_role_is_listed_per_school_of_children(cast):
    assert roles_of(cast.parent) == [
        {"role": "guardian", "school": cast.school.pk, "district": cast.district.pk}]
    assert set(schools_visible_to(cast.officer)) == {cast.school, cast.other_school}


def test_the_guardians_as_sql_are_the_guardians_of_the_child(cast):
    """guardian_users_sql: the same people as guardian_user_ids_of, as a FROM item."""
    from django.db import connection

    from schools.selectors import guardian_user_ids_of, guardian_users_sql
    from tests import factories as f

    grandma = f.GuardianFactory()
    f.link_guardian(grandma, cast.child)
    query = guardian_users_sql(cast.child.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT user_id FROM {query.text}", query.params)
        found = {row[0] for row in cursor.fetchall()}
    assert found == set(guardian_user_ids_of([cast.child.pk])[cast.child.pk])
    assert found == {cast.parent.pk, grandma.user_id}
