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
