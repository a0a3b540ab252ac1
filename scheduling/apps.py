from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("菜单与排班")

    def ready(self) -> None:
        from . import selectors  # noqa: F401  registers the serving teacher's student scope
