from django import template

from schools.selectors import sees_priority_categories

register = template.Library()


@register.filter
def sees_priority_of(user, student) -> bool:
    """`{% if user|sees_priority_of:student %}`: whether the page's reader may see the child's
    priority categories (the rule of `schools.selectors.sees_priority_categories`)."""
    return sees_priority_categories(user, student)
