"""Domain errors raised by services; views and the API turn them into translated 400/409."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("操作无效。")

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None,
                 extra: dict | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.field = field
        self.extra = extra or {}
        super().__init__(str(self.message))


class PolicyViolation(DomainError):
    """Input that breaks a rule of POLICY.md (400)."""

    code = "policy_violation"


class Conflict(DomainError):
    """The object's current state forbids the action (409)."""

    status = 409
    code = "conflict"
    default_message = _("当前状态不允许此操作。")


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, current: str, action: str, message=None):
        super().__init__(message or _("当前状态（%(state)s）不允许执行“%(action)s”。")
                         % {"state": current, "action": action})
        self.current = current
        self.action = action


def form_add_error(form, error: DomainError) -> None:
    """Show a service's refusal on a page's form: on its field if the form has it."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))
