"""Form fields of the ground shared by the stages' forms."""

from collections import Counter

from django import forms
from django.utils.translation import gettext as _

from .models import Staff


class StaffChoiceField(forms.ModelChoiceField):
    """Staff by full name (and provider); two people of the same name are told apart by their
    role and account, never shown as two identical lines."""

    def label_from_instance(self, staff: Staff) -> str:
        if getattr(self, "_names", None) is None:
            self._names = Counter(self.queryset.values_list("name", flat=True))
        label = staff.label
        if self._names[staff.name] > 1:
            who = staff.get_kind_display() if staff.user_id is None else _(
                "账号 %(username)s") % {"username": staff.user.username}
            label = f"{label} · {who}"
        return label
