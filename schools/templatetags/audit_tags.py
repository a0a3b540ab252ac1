from django import template

from schools.audit import action_label as _action_label

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """An audit action's human label ("家长提交申请"), never its code."""
    return _action_label(action)
