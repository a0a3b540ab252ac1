from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("考勤与接送")

    def ready(self) -> None:
        from scheduling.events import classes_created

        from . import selectors  # noqa: F401  registers the substitute's student scope
        from .services import on_classes_created

        # A week's classes get their sessions in the transaction that creates them.
        classes_created.connect(on_classes_created, dispatch_uid="attendance.sessions")
