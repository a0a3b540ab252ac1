from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("菜单与排班")

    def ready(self) -> None:
        from enrollment.events import enrolments_started, leave_reported

        from . import selectors  # noqa: F401  registers the serving teacher's student scope
        from .services.joiners import on_enrolments_started
        from .services.notices import on_leave_reported

        # A child approved after their week was allocated is seated at once.
        enrolments_started.connect(on_enrolments_started,
                                   dispatch_uid="scheduling.seat_joiners")
        # Leave reported after the cut-off on the day reaches the roll-taker at once.
        leave_reported.connect(on_leave_reported, dispatch_uid="scheduling.late_leave")
