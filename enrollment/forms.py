from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from schools.models import PriorityCategory, ServiceSlot
from schools.widgets import DateInput

from .evidence import check_evidence
from .models import TermPlan


class SlotChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, slot: ServiceSlot) -> str:
        return str(slot)


class ApplicationForm(forms.Form):
    slots = SlotChoiceField(label=_("服务时段"), queryset=ServiceSlot.objects.none(),
                            error_messages={"required": _("请至少选择一个服务时段。")})
    priority_claims = forms.MultipleChoiceField(
        label=_("优先保障类别（如符合）"), choices=PriorityCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    evidence = forms.FileField(label=_("证明材料（图片或 PDF，5 MB 以内，可选）"), required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}))
    start_date = forms.DateField(label=_("希望开始日期（可选）"), required=False,
                                 widget=DateInput())
    agreement_version = forms.IntegerField(widget=forms.HiddenInput)
    signed_name = forms.CharField(label=_("签名：请输入您的姓名"), max_length=50)
    confirm = forms.BooleanField(
        label=_("我已阅读并同意《课后服务安全责任书》"),
        error_messages={"required": _("请确认已阅读并同意安全责任书。")})

    def __init__(self, *args, term, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slots"].queryset = term.slots.order_by("kind", "weekday")

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if upload:
            check_evidence(upload)
        return upload

    def clean(self):
        data = super().clean()
        if data.get("evidence") and not data.get("priority_claims"):
            raise ValidationError({"evidence": _("上传证明材料前请先勾选对应的优先类别。")})
        return data


class ReasonForm(forms.Form):
    decision = forms.ChoiceField(label=_("审核结论"),
                                 choices=[("approve", _("通过")), ("return", _("退回")),
                                          ("reject", _("不通过"))])
    reason = forms.CharField(label=_("理由"), required=False, max_length=500)
    verified_claims = forms.MultipleChoiceField(choices=PriorityCategory.choices,
                                                required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("审定结论"),
                                 choices=[("approve", _("批准")), ("reject", _("不批准"))])
    reason = forms.CharField(label=_("理由"), required=False, max_length=500)
    start_date = forms.DateField(label=_("开始日期"), required=False,
                                 widget=DateInput())


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={
        "required": _("请至少勾选一份申请。")})
    start_date = forms.DateField(label=_("开始日期"), required=False,
                                 widget=DateInput())

    def __init__(self, *args, queue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in queue.values_list("pk", flat=True)]


class PlanForm(forms.ModelForm):
    class Meta:
        model = TermPlan
        fields = ["service_days", "menu_outline", "staffing", "fee_standard", "fee_settlement",
                  "withdrawal_rule", "safety_measures", "agreement_text", "complaint_phone",
                  "complaint_email", "applications_open", "applications_close"]
        widgets = {
            "applications_open": DateInput(),
            "applications_close": DateInput(),
            **{f: forms.Textarea(attrs={"rows": 3}) for f in
               ["service_days", "menu_outline", "staffing", "fee_standard", "fee_settlement",
                "withdrawal_rule", "safety_measures"]},
            "agreement_text": forms.Textarea(attrs={"rows": 10}),
        }


class LeaveForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DateInput())
    slot = forms.ModelChoiceField(label=_("时段"), queryset=ServiceSlot.objects.none())
    reason = forms.CharField(label=_("事由"), max_length=200)

    def __init__(self, *args, enrolment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = enrolment.slots.order_by("weekday", "start")


class WithdrawalForm(forms.Form):
    effective_date = forms.DateField(label=_("生效日期"),
                                     widget=DateInput())
    reason = forms.CharField(label=_("退出原因"), max_length=300)


class SurveyForm(forms.Form):
    slots = SlotChoiceField(label=_("需要的服务时段"), queryset=ServiceSlot.objects.none(),
                            required=False)

    def __init__(self, *args, term, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slots"].queryset = term.slots.order_by("kind", "weekday")
