"""Every write of the scheduling stage, one transaction each, audited; notices go through the
outbox. By topic: the activity catalogue, the weekly menu and its checks, choices, the
allocation (seat plan and commit), placements after it, and the notices."""

from .activities import activity_create
from .choices import choices_set, choices_set_many
from .joiners import seat_joiners, study_hall_open
from .menus import (
    LATEST_EVENING_END,
    MIN_DAILY_MINUTES,
    NO_WRITTEN_HOMEWORK_GRADES,
    Finding,
    default_deadline,
    menu_check,
    menu_create,
    menu_item_add,
    menu_item_remove,
    menu_items_add,
    menu_publish,
)
from .placements import (
    lock_class,
    placement_add,
    placement_add_to_class,
    placement_move,
    placement_swap,
    placement_swap_with_student_no,
)
from .seating import SeatPlan, menu_allocate, plan_seats

__all__ = [
    "LATEST_EVENING_END",
    "MIN_DAILY_MINUTES",
    "NO_WRITTEN_HOMEWORK_GRADES",
    "Finding",
    "SeatPlan",
    "activity_create",
    "choices_set",
    "choices_set_many",
    "default_deadline",
    "lock_class",
    "menu_allocate",
    "menu_check",
    "menu_create",
    "menu_item_add",
    "menu_item_remove",
    "menu_items_add",
    "menu_publish",
    "placement_add",
    "placement_add_to_class",
    "placement_move",
    "placement_swap",
    "placement_swap_with_student_no",
    "plan_seats",
    "seat_joiners",
    "study_hall_open",
]
