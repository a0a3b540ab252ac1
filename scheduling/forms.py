
from django import forms
from django.utils.translation import gettext_lazy as _

from schools.fields import StaffChoiceField
from schools.models import ServiceSlot, Staff
from schools.widgets import DateInput, DateTimeInput, TimeInput

from .models import Activity, Menu, MenuItem, TemporaryClass


def _grade_choices(school):
    return [(g.number, g.name) for g in school.grades.order_by("number")]


class MenuCreateForm(forms.Form):
    week = forms.DateField(label=_("周一日期"), widget=DateInput())
    choice_deadline = forms.DateTimeField(
        label=_("选课截止（留空为前一周周五 20:00）"), required=False,
        widget=DateTimeInput())
    copy_previous = forms.BooleanField(label=_("复制上一周的菜单"), required=False, initial=True)


class ActivityForm(forms.ModelForm):
    grades = forms.TypedMultipleChoiceField(label=_("适合年级"), coerce=int,
                                            widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Activity
        fields = ["name", "category", "description", "teacher", "room", "grades", "capacity"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"teacher": StaffChoiceField}

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grades"].choices = _grade_choices(school)
        self.fields["teacher"].queryset = (Staff.objects.filter(school=school, active=True)
                                           .select_related("user").order_by("name", "pk"))


class ItemForm(forms.Form):
    activity = forms.ModelChoiceField(label=_("活动"), queryset=Activity.objects.none())
    slots = forms.ModelMultipleChoiceField(label=_("时段（可多选）"),
                                           queryset=ServiceSlot.objects.none(),
                                           widget=forms.CheckboxSelectMultiple)
    capacity = forms.IntegerField(label=_("人数上限（留空用活动设置）"), required=False,
                                  min_value=1)
    end = forms.TimeField(label=_("结束时间（留空用时段设置）"), required=False,
                          widget=TimeInput())

    def __init__(self, *args, menu: Menu, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = menu.school.activities.filter(active=True)
        self.fields["slots"].queryset = menu.term.slots.order_by("kind", "weekday")


class PublishForm(forms.Form):
    acknowledge_warnings = forms.BooleanField(label=_("我已了解以上提示，仍然发布"),
                                              required=False)


class AllocateForm(forms.Form):
    preview = forms.BooleanField(required=False, widget=forms.HiddenInput)
    seed = forms.RegexField(regex=r"^[0-9A-Za-z_-]{1,64}$", required=False,
                            label=_("随机种子（留空自动生成）"))


class ChoiceForm(forms.Form):
    """One slot's ranking: up to the school's number of choices, best first. The fields are
    `rank1` … `rankN`; the page shows them as selects without JavaScript and as activities
    tapped in order with it (static/js/choose.js fills the same selects)."""

    def __init__(self, *args, slot: ServiceSlot, items: list[MenuItem], choices: int,
                 initial_ranked: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = slot
        self.items = items
        self.choices = choices
        by_pk = {i.pk: i for i in items}
        self.initial_items = [by_pk[pk] for pk in initial_ranked if pk in by_pk]
        options = [("", "—")] + [(i.pk, f"{i.activity.name}（{i.activity.get_category_display()}"
                                       f"，{i.teacher.name if i.teacher else ''}{i.room}）")
                                 for i in items]
        for rank in range(1, choices + 1):
            self.fields[f"rank{rank}"] = forms.TypedChoiceField(
                label=_("第%d志愿") % rank, choices=options, coerce=int, required=False,
                empty_value=None,
                initial=initial_ranked[rank - 1] if rank <= len(initial_ranked) else "")

    def clean(self):
        data = super().clean()
        picked = [pk for pk in self._in_order(data) if pk is not None]
        if len(set(picked)) != len(picked):
            raise forms.ValidationError(_("同一活动不能重复填报。"), code="repeated")
        return data

    def _in_order(self, data) -> list[int | None]:
        return [data.get(f"rank{rank}") for rank in range(1, self.choices + 1)]

    def ranked(self) -> list[int]:
        """The chosen items best first; a rank left empty closes up."""
        return [pk for pk in self._in_order(self.cleaned_data) if pk is not None]


class MemberAddForm(forms.Form):
    student_no = forms.CharField(label=_("学号"), max_length=30)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class MoveForm(forms.Form):
    placement = forms.IntegerField(widget=forms.HiddenInput)
    # Shown in each row of the class list without a visible label: named for screen readers.
    to = forms.ModelChoiceField(label=_("调到"), queryset=TemporaryClass.objects.none(),
                                widget=forms.Select(attrs={"aria-label": _("调到")}))

    def __init__(self, *args, cls: TemporaryClass, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = (TemporaryClass.objects
                                      .filter(menu=cls.menu_id, slot=cls.slot_id)
                                      .exclude(pk=cls.pk))


class SwapForm(forms.Form):
    first = forms.IntegerField(widget=forms.HiddenInput)
    second_student_no = forms.CharField(label=_("与该学号的学生对调"), max_length=30)
