"""Enrollment REST endpoints (API.md, Enrollment table). Thin: parse, call a selector or a
service, serialise."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.addresses import client_ip
from schools.errors import PolicyViolation
from schools.models import PriorityCategory, ServiceSlot
from schools.openapi import choice_filter, conflict, int_filter
from schools.params import choice_param, int_param
from schools.selectors import children_of, terms_visible_to
from schools.serializers import (
    PriorityCategoriesField,
    PriorityFlagField,
    reader_sees_priority,
)

from . import selectors, services
from .evidence import check_evidence
from .models import (
    Application,
    ClaimEvidence,
    Enrolment,
    FeeStandard,
    Leave,
    TermPlan,
    Withdrawal,
)


def _client_ip(request) -> str | None:
    return client_ip(request)


def _guardian_name(user) -> str:
    profile = getattr(user, "guardian_profile", None)
    return profile.name if profile else user.get_full_name() or user.username


class SignedChoiceSerializer(serializers.Serializer):
    """What a guardian chooses and signs, on a first application and on a resubmission."""

    class Meta:
        ref_name = "SignedChoice"

    slots = serializers.ListField(child=serializers.IntegerField(), allow_empty=False,
                                  max_length=20)
    priority_claims = serializers.ListField(
        child=serializers.ChoiceField(choices=PriorityCategory.choices), required=False,
        default=list, max_length=10)
    agreement_version = serializers.IntegerField()
    signed_name = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                 default="")
    start_date = serializers.DateField(required=False, allow_null=True, default=None)


class PlanOutputSerializer(serializers.ModelSerializer):
    slots = serializers.JSONField(source="slots_snapshot")
    agreement = serializers.SerializerMethodField()
    term = serializers.IntegerField(source="term_id")

    class Meta:
        model = TermPlan
        fields = ["id", "term", "version", "published_at", "slots", "service_days",
                  "menu_outline", "staffing", "fee_standard", "fee_settlement",
                  "withdrawal_rule", "safety_measures", "agreement", "complaint_phone",
                  "complaint_email", "applications_open", "applications_close"]

    def get_agreement(self, plan) -> dict:
        return {"version": plan.version, "text": plan.agreement_text}


class TermPlanApi(APIView):
    @extend_schema(responses=PlanOutputSerializer)
    def get(self, request, term_id: int):
        plan = selectors.plan_for(request.user, term_id)
        return Response(PlanOutputSerializer(plan).data)


class FeeStandardOutputSerializer(serializers.ModelSerializer):
    term = serializers.IntegerField(source="term_id")
    text = serializers.CharField(source="description")

    class Meta:
        model = FeeStandard
        fields = ["id", "term", "version", "mode", "rate", "effective_from", "approved_by",
                  "approval_ref", "published_at", "text"]


class FeeStandardsApi(APIView):
    """R11: the term's fee standard versions (read: the school's guardians and staff; publish:
    the principal or office). A version is never edited: a change is the next version."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FeeStandardInput"

        mode = serializers.ChoiceField(choices=FeeStandard.Mode.choices)
        rate = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                        required=False, default=0)
        effective_from = serializers.DateField()
        approved_by = serializers.CharField(max_length=100)
        approval_ref = serializers.CharField(max_length=100)

    @extend_schema(responses=FeeStandardOutputSerializer(many=True))
    def get(self, request, term_id: int):
        term = get_object_or_404(terms_visible_to(request.user), pk=term_id)
        return Response(FeeStandardOutputSerializer(
            term.fee_standards.order_by("version"), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: FeeStandardOutputSerializer})
    def post(self, request, term_id: int):
        term = get_object_or_404(selectors.terms_managed_by(request.user), pk=term_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        standard = services.fee_standard_publish(term=term, user=request.user,
                                                 **data.validated_data)
        return Response(FeeStandardOutputSerializer(standard).data,
                        status=status.HTTP_201_CREATED)


class EvidenceOutputSerializer(serializers.ModelSerializer):
    """One evidence file: `url` is the view that checks who asks (the file has no public
    address)."""

    class Meta:
        model = ClaimEvidence
        fields = ["id", "code", "size", "uploaded_at", "verified_at", "url"]

    url = serializers.CharField(source="get_absolute_url", read_only=True)


class ApplicationOutputSerializer(serializers.ModelSerializer):
    """`priority_claims`, `is_priority` and `evidence` follow the rule of the child's sensitive
    data (`schools.serializers.PriorityCategoriesField`): their values for the child's
    guardians, homeroom teacher, the school's principal and office (the only readers of an
    application), `null` otherwise and when serialised without the request."""

    slots = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    student_name = serializers.CharField(source="student.name")
    homeroom = serializers.CharField(source="student.homeroom")
    agreement_version = serializers.IntegerField(source="plan.version")
    enrolment = serializers.SerializerMethodField()
    priority_claims = PriorityCategoriesField(student="student")
    is_priority = PriorityFlagField(student="student")
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = ["id", "student", "student_name", "homeroom", "term", "status", "slots",
                  "priority_claims", "is_priority", "evidence", "note", "start_date", "reason",
                  "agreement_version", "submitted_at", "reviewed_at", "decided_at", "enrolment"]

    def get_enrolment(self, application) -> int | None:
        enrolment = getattr(application, "enrolment", None)
        return enrolment.pk if enrolment else None

    @extend_schema_field(EvidenceOutputSerializer(many=True, allow_null=True))
    def get_evidence(self, application) -> list | None:
        if not reader_sees_priority(self.context, application.student):
            return None
        return EvidenceOutputSerializer(application.evidence.all(), many=True).data


class EvidenceInputSerializer(SignedChoiceSerializer):
    """A signed choice with the evidence of its priority claims: a submission and a
    resubmission take the same."""

    evidence = serializers.ListField(child=serializers.FileField(), required=False,
                                     default=list, max_length=10)
    evidence_codes = serializers.ListField(
        child=serializers.ChoiceField(choices=PriorityCategory.choices), required=False,
        default=list, max_length=10)


def _application_out(application: Application, request) -> dict:
    """An application as its reader may see it (the request says who reads)."""
    return ApplicationOutputSerializer(application, context={"request": request}).data


@extend_schema_view(get=extend_schema(parameters=[
    int_filter("term", gettext_lazy("只列这个学期（id）的申请。")),
    choice_filter("status", Application.Status, gettext_lazy("只列这个状态的申请。"))]))
class ApplicationListApi(generics.ListAPIView):
    serializer_class = ApplicationOutputSerializer

    class InputSerializer(EvidenceInputSerializer):
        class Meta:
            ref_name = "ApplicationListInput"

        student = serializers.IntegerField()
        term = serializers.IntegerField()

    def get_queryset(self):
        qs = selectors.applications_visible_to(self.request.user).select_related("enrolment")
        params = self.request.query_params
        if (term := int_param(params, "term")) is not None:
            qs = qs.filter(term_id=term)
        if state := choice_param(params, "status", Application.Status):
            qs = qs.filter(status=state)
        return qs.order_by("-is_priority", "submitted_at", "id")

    @extend_schema(request=InputSerializer, responses={
        201: ApplicationOutputSerializer,
        409: conflict("plan_not_published", "applications_not_open", "applications_closed",
                      "already_enrolled", "already_open")})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        student = get_object_or_404(children_of(request.user), pk=v["student"])
        term = get_object_or_404(terms_visible_to(request.user), pk=v["term"])
        slots = _slots(term, v["slots"])
        evidence = _evidence(v["evidence"], v["evidence_codes"])
        application = services.application_submit(
            applicant=request.user, guardian_name=_guardian_name(request.user),
            student=student, term=term, slots=slots, priority_claims=v["priority_claims"],
            signature=services.SignatureInput(
                agreement_version=v["agreement_version"], signed_name=v["signed_name"],
                ip_address=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")),
            note=v["note"], start_date=v["start_date"], evidence=evidence)
        return Response(_application_out(application, request),
                        status=status.HTTP_201_CREATED)


def _slots(term, ids: list[int]) -> list[ServiceSlot]:
    slots = list(ServiceSlot.objects.filter(pk__in=ids, term=term))
    if len(slots) != len(set(ids)):
        raise PolicyViolation(field="slots", message=_msg_unknown_slots())
    return slots


def _msg_unknown_slots():
    return _("所选时段不存在或不属于该学期。")


def _evidence(files, codes) -> list[services.EvidenceInput]:
    if len(files) != len(codes):
        raise PolicyViolation(_("每份证明材料须注明对应的优先类别。"), field="evidence_codes")
    items = []
    for upload, code in zip(files, codes, strict=True):
        try:
            check_evidence(upload)
        except ValidationError as exc:
            raise PolicyViolation(exc.messages[0], field="evidence") from exc
        items.append(services.EvidenceInput(code=code, file=upload))
    return items


class ApplicationDetailApi(generics.RetrieveAPIView):
    serializer_class = ApplicationOutputSerializer

    def get_queryset(self):
        return selectors.applications_visible_to(self.request.user).select_related("enrolment")


class ReviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReviewInput"

        decision = serializers.ChoiceField(choices=["approve", "return", "reject"])
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=500)
        verified_claims = serializers.ListField(
            child=serializers.ChoiceField(choices=PriorityCategory.choices), required=False,
            default=list, max_length=10)

    @extend_schema(request=InputSerializer, responses={
        200: ApplicationOutputSerializer, 409: conflict("invalid_transition")})
    def post(self, request, pk: int):
        application = get_object_or_404(selectors.applications_to_review(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_review(application=application,
                                                  reviewer=request.user, **data.validated_data)
        return Response(_application_out(application, request))


class DecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DecideInput"

        decision = serializers.ChoiceField(choices=["approve", "reject"])
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=500)
        start_date = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={
        200: ApplicationOutputSerializer, 409: conflict("not_class_approved")})
    def post(self, request, pk: int):
        application = get_object_or_404(selectors.applications_to_decide(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_decide(application=application,
                                                  principal=request.user, **data.validated_data)
        application = Application.objects.select_related("enrolment", "plan", "student__homeroom"
                                                         ).get(pk=application.pk)
        return Response(_application_out(application, request))


class BulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False,
                                max_length=5000)
    start_date = serializers.DateField(required=False, allow_null=True, default=None)


def _in_queue(queue, ids: list[int]) -> list[Application]:
    found = list(queue.filter(pk__in=ids).only("pk", "term_id", "student_id"))
    if len(found) != len(set(ids)):
        raise Http404
    return found


class BulkReviewResultSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField()
    status = serializers.CharField()


class BulkDecideResultSerializer(serializers.Serializer):
    approved = serializers.IntegerField()
    status = serializers.CharField()


class BulkReviewApi(APIView):
    @extend_schema(request=BulkInputSerializer, responses={
        200: BulkReviewResultSerializer, 409: conflict("stale")})
    def post(self, request):
        data = BulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        apps = _in_queue(Application.objects.filter(
            pk__in=selectors.applications_to_review(request.user).values("pk")),
            data.validated_data["ids"])
        n = services.application_review_bulk(applications=apps, reviewer=request.user)
        return Response({"reviewed": n, "status": Application.Status.CLASS_APPROVED})


class BulkDecideApi(APIView):
    @extend_schema(request=BulkInputSerializer, responses={
        200: BulkDecideResultSerializer, 409: conflict("not_class_approved")})
    def post(self, request):
        data = BulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        apps = _in_queue(Application.objects.filter(
            pk__in=selectors.applications_to_decide(request.user).values("pk")),
            data.validated_data["ids"])
        enrolments = services.application_decide_bulk(
            applications=apps, principal=request.user,
            start_date=data.validated_data["start_date"])
        return Response({"approved": len(enrolments), "status": Application.Status.APPROVED})


class CancelApi(APIView):
    @extend_schema(request=None, responses={
        200: ApplicationOutputSerializer, 409: conflict("invalid_transition")})
    def post(self, request, pk: int):
        application = selectors.application_for_guardian(request.user, pk)
        application = services.application_cancel(application=application, user=request.user)
        return Response(_application_out(application, request))


class ResubmitApi(APIView):
    class InputSerializer(EvidenceInputSerializer):
        class Meta:
            ref_name = "ResubmitInput"

    @extend_schema(request=InputSerializer, responses={
        200: ApplicationOutputSerializer,
        409: conflict("invalid_transition", "plan_not_published")})
    def post(self, request, pk: int):
        application = selectors.application_for_guardian(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        application = services.application_resubmit(
            application=application, applicant=request.user,
            guardian_name=_guardian_name(request.user), slots=_slots(application.term, v["slots"]),
            priority_claims=v["priority_claims"],
            signature=services.SignatureInput(
                agreement_version=v["agreement_version"], signed_name=v["signed_name"],
                ip_address=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")),
            note=v["note"], start_date=v["start_date"],
            evidence=_evidence(v["evidence"], v["evidence_codes"]))
        return Response(_application_out(application, request))


class EnrolmentOutputSerializer(serializers.ModelSerializer):
    slots = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    student_name = serializers.CharField(source="student.name")

    class Meta:
        model = Enrolment
        fields = ["id", "student", "student_name", "term", "status", "start_date", "end_date",
                  "slots", "application"]


@extend_schema_view(get=extend_schema(parameters=[
    int_filter("term", gettext_lazy("只列这个学期（id）的在读记录。"))]))
class EnrolmentListApi(generics.ListAPIView):
    serializer_class = EnrolmentOutputSerializer

    def get_queryset(self):
        qs = selectors.enrolments_visible_to(self.request.user)
        if (term := int_param(self.request.query_params, "term")) is not None:
            qs = qs.filter(term_id=term)
        return qs.order_by("term_id", "student__grade__number", "student_id")


class WithdrawalOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Withdrawal
        fields = ["id", "enrolment", "effective_date", "reason", "status", "requested_at",
                  "decided_at", "decision_reason"]


class WithdrawalApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WithdrawalInput"

        effective_date = serializers.DateField()
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses={
        201: WithdrawalOutputSerializer, 409: conflict("not_active", "already_open")})
    def post(self, request, pk: int):
        enrolment = selectors.enrolment_for_guardian(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_request(enrolment=enrolment, user=request.user,
                                                 **data.validated_data)
        return Response(WithdrawalOutputSerializer(withdrawal).data,
                        status=status.HTTP_201_CREATED)


class WithdrawalDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WithdrawalDecideInput"

        decision = serializers.ChoiceField(choices=["approve", "reject"])
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=300)

    @extend_schema(request=InputSerializer, responses={
        200: WithdrawalOutputSerializer, 409: conflict("invalid_transition")})
    def post(self, request, pk: int):
        withdrawal = get_object_or_404(selectors.withdrawals_to_decide(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_decide(
            withdrawal=withdrawal, principal=request.user,
            approve=data.validated_data["decision"] == "approve",
            reason=data.validated_data["reason"])
        return Response(WithdrawalOutputSerializer(withdrawal).data)


class LeaveOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Leave
        fields = ["id", "student", "date", "slot", "reason", "reported_at", "late"]


class LeaveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LeaveInput"

        student = serializers.IntegerField()
        date = serializers.DateField()
        slot = serializers.IntegerField()
        reason = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses={
        201: LeaveOutputSerializer, 409: conflict("already_reported")})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        student = get_object_or_404(children_of(request.user), pk=v["student"])
        leave = services.leave_report_for_child(student=student, slot_id=v["slot"],
                                                date=v["date"], reason=v["reason"],
                                                user=request.user)
        return Response(LeaveOutputSerializer(leave).data, status=status.HTTP_201_CREATED)
