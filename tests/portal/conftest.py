# The scheduling stage's fixtures (a week's menu, enrolments, the allocation) are what the home
# pages read.
from tests.scheduling.conftest import (  # noqa: F401
    activities,
    allocated,
    apply_for,
    class_approved,
    enrol,
    enrolled,
    enrolment,
    menu,
    monday,
    monday_choices,
    plan,
    published,
    submitted,
    teachers,
)
