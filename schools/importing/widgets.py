"""Import-export widgets: one column each way, cell text in, model value out, and back."""

from django.utils.translation import gettext as _
from import_export import widgets

from ..models import PriorityCategory, Student
from .columns import GENDER_LABELS, LIST_SPLIT_RE, NO, YES, priority_label, priority_labels
from .reading import cell_text


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return "" if value is None else str(value).strip()


class GenderWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        if text in GENDER_LABELS:
            return GENDER_LABELS[text]
        if text.upper() in Student.Gender.values:
            return text.upper()
        raise ValueError(_("只能填“男”“女”或留空"))

    def render(self, value, obj=None, **kwargs):
        return {v: k for k, v in GENDER_LABELS.items()}.get(value, "")


class YesNoWidget(widgets.Widget):
    TRUE = {YES, "Y", "YES", "TRUE", "1"}
    FALSE = {NO, "", "N", "NO", "FALSE", "0"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).upper()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("只能填“是”或“否”"))

    def render(self, value, obj=None, **kwargs):
        return YES if value else NO


class PriorityWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        labels = priority_labels()
        codes, unknown = [], []
        for part in LIST_SPLIT_RE.split(cell_text(value)):
            if not part:
                continue
            code = labels.get(part, part if part in PriorityCategory.values else None)
            if code is None:
                unknown.append(part)
            elif code not in codes:
                codes.append(code)
        if unknown:
            raise ValueError(_("无法识别“%(values)s”，可填：%(allowed)s")
                             % {"values": "、".join(unknown), "allowed": "、".join(labels)})
        return codes

    def render(self, value, obj=None, **kwargs):
        return "、".join(priority_label(code) for code in value or [])
