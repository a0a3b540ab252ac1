"""Attendance REST endpoints (API.md, Attendance table), plus what the pages need: the
principal's substitute and restricted adults, resolving an incident. Thin: parse, call a
selector or a service, serialise. Tablet writes carry a `client_id` and may carry
`occurred_at` (when it happened, if it was queued offline)."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.errors import PolicyViolation
from schools.models import CARE_ROLES, School
from schools.openapi import conflict, date_filter, error, int_filter
from schools.params import date_param, int_param
from schools.selectors import (
    children_of,
    school_ids_for,
    students_visible_to,
    terms_visible_to,
)

from . import selectors, services
from .models import Handoff, Incident, Mark, PickupAdult
from .pickup import daily_code, last4

# Replies built by the services (a handoff, an incident, a day...): JSON objects whose keys
# API.md lists; a tablet's replay gets the very same object back (attendance.idempotency).
OPEN = OpenApiTypes.OBJECT
SESSION_LIST = inline_serializer("SessionBrief", many=True, fields={
    "id": serializers.IntegerField(), "date": serializers.DateField(),
    "class_name": serializers.CharField(), "start": serializers.CharField(),
    "end": serializers.CharField(), "expected": serializers.ListField(
        child=serializers.DictField(), max_length=200)})
ADULT_FIELDS = {
    "id": serializers.IntegerField(), "name": serializers.CharField(),
    "relation": serializers.CharField(),
    "phone": serializers.CharField(required=False, help_text=_lazy("监护人可见")),
    "phone_last4": serializers.CharField(required=False, help_text=_lazy("学校教职工可见")),
    "valid_from": serializers.DateField(allow_null=True),
    "valid_to": serializers.DateField(allow_null=True),
    "weekdays": serializers.ListField(child=serializers.IntegerField(), max_length=7),
    "revoked_at": serializers.DateTimeField(allow_null=True)}


def _iso(value):
    return value.isoformat() if value else None


def _reply(reply) -> Response:
    return Response(reply.body, status=reply.status)


def _expected_json(e: selectors.Expected) -> dict:
    return {
        "student": e.student.pk, "name": e.student.name, "homeroom": str(e.student.homeroom),
        "status": e.status, "leave": e.leave, "unexplained": e.unexplained,
        "handoff": services.handoff_json(e.handoff) if e.handoff else None,
        "incidents": [services.incident_json(i) for i in e.open_incidents],
        "pickup": {"adults": [a.as_json() for a in e.adults], "bus": e.bus,
                   "walk_home": e.walk_home},
    }


def session_json(session, expected: list | None = None) -> dict:
    body = {"id": session.pk, "date": session.date.isoformat(), "slot": session.slot_id,
            "temporary_class": session.temporary_class_id,
            "class_name": session.temporary_class.name, "room": session.temporary_class.room,
            "start": session.start.strftime("%H:%M"), "end": session.end.strftime("%H:%M"),
            "teacher": session.teacher.name if session.teacher else None,
            "substitute": session.substitute, "roll_called_at": _iso(session.roll_called_at)}
    if expected is not None:
        body["expected"] = [_expected_json(e) for e in expected]
    return body


class WriteInput(serializers.Serializer):
    client_id = serializers.UUIDField()
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class SessionListApi(APIView):
    @extend_schema(parameters=[date_filter("date", _lazy("哪一天的课次（默认今天）。"))],
                   responses={200: SESSION_LIST}, operation_id="sessions_list")
    def get(self, request):
        day = date_param(request.query_params, "date") or timezone.localdate()
        sessions = selectors.sessions_visible_to(request.user).filter(date=day)
        return Response([session_json(s) | {"expected": selectors.expected_brief(s)}
                         for s in sessions])


@extend_schema(responses={200: OPEN})
class SessionDetailApi(APIView):
    def get(self, request, pk: int):
        session = get_object_or_404(selectors.sessions_visible_to(request.user), pk=pk)
        return Response(session_json(session, selectors.expected_in(session)))


class RollCallApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RollCallInput"

        class MarkInput(WriteInput):
            class Meta:
                ref_name = "RollCallMark"

            student = serializers.IntegerField(min_value=1)
            status = serializers.ChoiceField(choices=Mark.Status.choices)

        marks = MarkInput(many=True, allow_empty=False, max_length=200)

    @extend_schema(request=InputSerializer, responses={200: OPEN, 422: error(
        _lazy("client_id 已用于另一项不同的操作（code: client_id_reused）。"))})
    def post(self, request, pk: int):
        session = selectors.session_for_teacher(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.roll_call(session=session, user=request.user,
                                    marks=data.validated_data["marks"])
        return Response({"session": session.pk, "marks": [
            {"student": m.student_id, "status": m.status, "client_id": str(m.client_id),
             "correction": m.correction} for m in result.marks],
            "unexplained": result.unexplained})


class IncidentCreateApi(APIView):
    class InputSerializer(WriteInput):
        class Meta:
            ref_name = "IncidentInput"

        student = serializers.IntegerField(min_value=1)
        kind = serializers.ChoiceField(choices=Incident.Kind.choices)
        note = serializers.CharField(max_length=1000)

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        session = selectors.session_for_teacher(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return _reply(services.incident_report(
            session=session, user=request.user, student_id=v["student"], kind=v["kind"],
            note=v["note"], client_id=v["client_id"], occurred_at=v["occurred_at"]))


class HandoffCreateApi(APIView):
    class InputSerializer(WriteInput):
        class Meta:
            ref_name = "HandoffInput"

        student = serializers.IntegerField(min_value=1)
        released_to = serializers.ChoiceField(choices=Handoff.To.choices)
        pickup_person = serializers.RegexField(r"^[gad][0-9]{1,18}$", required=False,
                                               allow_blank=True)
        pickup_code = serializers.RegexField(r"^\s*[0-9]{4,8}\s*$", required=False,
                                             allow_blank=True)
        pickup_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
        pickup_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
        transfer_to = serializers.IntegerField(required=False, min_value=1, allow_null=True)

        def validate(self, attrs):
            if attrs["released_to"] == Handoff.To.GUARDIAN and not any(
                    attrs.get(k) for k in ("pickup_person", "pickup_code", "pickup_phone",
                                           "pickup_name")):
                raise serializers.ValidationError(
                    {"pickup_person": [_("请选择接送人，或输入接送码。")]})
            if attrs["released_to"] == Handoff.To.TRANSFER and not attrs.get("transfer_to"):
                raise serializers.ValidationError({"transfer_to": [_("请选择转入的课次。")]})
            return attrs

    @extend_schema(request=InputSerializer, responses={
        201: OPEN, 200: OPEN,
        403: error(_lazy("来人未获授权（code: not_authorised，reason 说明原因），"
                         "或没有自行离校许可；拒绝已记录。")),
        409: conflict("already_handed_off"),
        422: error(_lazy("client_id 已用于另一项不同的操作。"))})
    def post(self, request, pk: int):
        session = selectors.session_for_teacher(request.user, pk, related=())
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        client_id, occurred_at = v.pop("client_id"), v.pop("occurred_at")
        return _reply(services.handoff_release(session=session, user=request.user, data=v,
                                               client_id=client_id, occurred_at=occurred_at))


class ServiceRecordApi(APIView):
    class InputSerializer(WriteInput):
        class Meta:
            ref_name = "ServiceRecordInput"

        content = serializers.CharField(max_length=2000)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                      default="")

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        session = selectors.session_for_teacher(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return _reply(services.service_record_write(
            session=session, user=request.user, content=v["content"], notes=v["notes"],
            client_id=v["client_id"], occurred_at=v["occurred_at"]))


class SessionTeacherApi(APIView):
    """The principal names a substitute for a session."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SessionTeacherInput"

        teacher = serializers.IntegerField(min_value=1)
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       default="")

    @extend_schema(request=InputSerializer, responses={200: OPEN})
    def post(self, request, pk: int):
        session = get_object_or_404(selectors.sessions_visible_to(request.user).filter(
            school_id__in=selectors.schools_whose_day(request.user)), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_set_teacher(session=session,
                                               teacher=data.validated_data["teacher"],
                                               user=request.user,
                                               reason=data.validated_data["reason"])
        return Response(session_json(session))


def _school_day(user, school_pk: int) -> School:
    return get_object_or_404(School.objects.filter(pk__in=selectors.schools_whose_day(user)),
                             pk=school_pk)


def _day_json(day: selectors.Day) -> dict:
    return {
        "school": day.school_id, "date": day.date.isoformat(),
        "sessions": [session_json(s) | {
            "present": sum(1 for e in expected if e.present),
            "released": sum(1 for e in expected if e.handoff is not None),
            "expected": len(expected)} for s, expected in day.sessions],
        "not_released": [{"student": e.student.pk, "name": e.student.name, "session": s.pk}
                         for s, e in day.not_released],
        "unexplained_absences": [{"student": e.student.pk, "name": e.student.name,
                                  "session": s.pk} for s, e in day.unexplained],
        "incidents": [services.incident_json(i) | {"name": i.student.name}
                      for i in day.incidents],
        "refusals": [{"id": r.pk, "student": r.student_id, "name": r.student.name,
                      "reason": r.reason, "presented": r.presented,
                      "occurred_at": r.occurred_at.isoformat()} for r in day.refusals],
        "conflicts": [{"id": c.pk, "student": c.student_id, "name": c.student.name,
                       "handoff": c.handoff_id, "attempted": c.attempted,
                       "occurred_at": c.occurred_at.isoformat()} for c in day.conflicts],
        "late_pickups": [{"student": lp.student_id, "name": lp.student.name,
                          "session": lp.session_id, "step": lp.step, "at": lp.at.isoformat()}
                         for lp in day.late_pickups],
        "late_synced": [services.handoff_json(h) for h in day.late_synced],
        "closed_by": (day.closed.closed_by.display_name or day.closed.closed_by.username)
        if day.closed else None,
        "closed_at": _iso(day.closed.closed_at) if day.closed else None,
    }


@extend_schema(responses={200: OPEN})
class DayApi(APIView):
    def get(self, request, pk: int, date: datetime.date):
        school = _school_day(request.user, pk)
        return Response(_day_json(selectors.day_of(school.pk, date)))


class DayCloseApi(APIView):
    @extend_schema(request=None, responses={200: OPEN, 409: conflict("not_handed_off")})
    def post(self, request, pk: int, date: datetime.date):
        school = _school_day(request.user, pk)
        closed = services.day_close(school=school, day=date, user=request.user)
        return Response({"school": school.pk, "date": date.isoformat(),
                         "closed_by": closed.closed_by_id, "closed_at": _iso(closed.closed_at)})


def _own_child(user, pk: int):
    return get_object_or_404(children_of(user), pk=pk)


def _adult_json(adult: PickupAdult, *, full: bool) -> dict:
    return {"id": adult.pk, "name": adult.name, "relation": adult.relation,
            **({"phone": adult.phone} if full else {"phone_last4": last4(adult.phone)}),
            "valid_from": _iso(adult.valid_from), "valid_to": _iso(adult.valid_to),
            "weekdays": adult.weekdays, "revoked_at": _iso(adult.revoked_at)}


class PickupAdultsApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PickupAdultInput"

        name = serializers.CharField(max_length=50)
        relation = serializers.CharField(max_length=20)
        phone = serializers.CharField(max_length=20)
        valid_from = serializers.DateField(required=False, allow_null=True, default=None)
        valid_to = serializers.DateField(required=False, allow_null=True, default=None)
        weekdays = serializers.ListField(child=serializers.IntegerField(min_value=1,
                                                                        max_value=7),
                                         required=False, default=list, max_length=7)

    @extend_schema(responses={200: inline_serializer("PickupAdult", ADULT_FIELDS, many=True)})
    def get(self, request, pk: int):
        """The child's guardians read every adult in full; the school's staff read names and
        the last four digits of phones."""
        student = children_of(request.user).filter(pk=pk).first()
        own = student is not None
        if not own:  # staff who look after the child (a teacher: their classes)
            student = get_object_or_404(students_visible_to(request.user).filter(
                school_id__in=school_ids_for(request.user, CARE_ROLES)), pk=pk)
        adults = PickupAdult.objects.filter(student=student)
        if not own:
            adults = adults.filter(revoked_at__isnull=True)
        return Response([_adult_json(a, full=own) for a in adults])

    @extend_schema(request=InputSerializer, responses={
        201: inline_serializer("PickupAdultCreated", ADULT_FIELDS)})
    def post(self, request, pk: int):
        student = _own_child(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adult = services.pickup_adult_add(student=student, user=request.user,
                                          **data.validated_data)
        return Response(_adult_json(adult, full=True), status=status.HTTP_201_CREATED)


class PickupAdultRevokeApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        adult = get_object_or_404(PickupAdult.objects.filter(
            student__in=children_of(request.user)), pk=pk)
        services.pickup_adult_revoke(adult=adult, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DelegationApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DelegationInput"

        name = serializers.CharField(max_length=50)
        phone = serializers.CharField(max_length=20)
        date = serializers.DateField()

    @extend_schema(request=InputSerializer, responses={201: inline_serializer(
        "DelegationOutput", {"id": serializers.IntegerField(), "code": serializers.CharField(),
                             "date": serializers.DateField(), "name": serializers.CharField()})})
    def post(self, request, pk: int):
        student = _own_child(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = services.delegation_give(student=student, user=request.user, **data.validated_data)
        return Response({"id": d.pk, "code": d.code, "date": d.date.isoformat(),
                         "name": d.name}, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[date_filter("date", _lazy("哪一天的接送码（默认今天）。"))],
               responses={200: inline_serializer("PickupCodeOutput", {
                   "code": serializers.CharField(), "date": serializers.DateField()})})
class PickupCodeApi(APIView):
    def get(self, request, pk: int):
        student = _own_child(request.user, pk)
        today = timezone.localdate()
        day = date_param(request.query_params, "date") or today
        if not today <= day <= today + datetime.timedelta(days=7):
            raise PolicyViolation(_("只能查看今天起一周内的接送码。"), field="date")
        return Response({"code": daily_code(student.pk, day), "date": day.isoformat()})


class WalkHomeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WalkHomeInput"

        valid_from = serializers.DateField()
        valid_to = serializers.DateField()
        signed_name = serializers.CharField(max_length=50)

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        student = _own_child(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        p = services.walk_home_sign(student=student, user=request.user, **data.validated_data)
        return Response({"id": p.pk, "valid_from": _iso(p.valid_from),
                         "valid_to": _iso(p.valid_to), "signed_name": p.signed_name},
                        status=status.HTTP_201_CREATED)


class RestrictedAdultApi(APIView):
    """The principal records an adult who must never receive the child."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RestrictedAdultInput"

        name = serializers.CharField(max_length=50)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                      default="")
        reason = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        student = get_object_or_404(students_visible_to(request.user).filter(
            school_id__in=selectors.schools_whose_day(request.user)), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        r = services.restricted_adult_record(student=student, user=request.user,
                                             **data.validated_data)
        return Response({"id": r.pk, "name": r.name, "reason": r.reason},
                        status=status.HTTP_201_CREATED)


class DisputeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DisputeInput"

        note = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                     default="")

    @extend_schema(request=InputSerializer, responses={201: OPEN})
    def post(self, request, pk: int):
        handoff = get_object_or_404(Handoff.objects.filter(
            student__in=children_of(request.user)).select_related("session__school",
                                                                  "student"), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.handoff_dispute(handoff=handoff, user=request.user,
                                           note=data.validated_data["note"])
        return Response({"id": dispute.pk, "handoff": handoff.pk},
                        status=status.HTTP_201_CREATED)


class IncidentAcknowledgeApi(APIView):
    @extend_schema(request=None, responses={200: OPEN})
    def post(self, request, pk: int):
        incident = get_object_or_404(Incident.objects.filter(
            student__in=children_of(request.user)).select_related("session__school"), pk=pk)
        incident = services.incident_acknowledge(incident=incident, user=request.user)
        return Response(services.incident_json(incident))


class IncidentResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "IncidentResolveInput"

        resolution = serializers.ChoiceField(choices=Incident.Resolution.choices)

    @extend_schema(request=InputSerializer, responses={200: OPEN,
                                                       409: conflict("already_resolved")})
    def post(self, request, pk: int):
        sessions = selectors.sessions_visible_to(request.user)
        incident = get_object_or_404(Incident.objects.filter(session__in=sessions)
                                     .select_related("session__school"), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_resolve(incident=incident, user=request.user,
                                             resolution=data.validated_data["resolution"])
        return Response(services.incident_json(incident))


@extend_schema(parameters=[int_filter("term", _lazy("哪个学期（默认当前学期）。"))],
               responses={200: OPEN})
class ChildAttendanceApi(APIView):
    def get(self, request, pk: int):
        student = get_object_or_404(selectors.children_for_attendance(request.user), pk=pk)
        terms = terms_visible_to(request.user).filter(school_id=student.school_id)
        term_pk = int_param(request.query_params, "term")
        if term_pk is not None:
            term = get_object_or_404(terms, pk=term_pk)
        else:
            today = timezone.localdate()
            term = (terms.filter(start__lte=today).order_by("-start").first()
                    or terms.order_by("start").first())
        if term is None:
            return Response({"student": student.pk, "term": None, "sessions": []})
        lines = selectors.attendance_of(student, term.start, term.end)
        return Response({"student": student.pk, "term": term.pk, "sessions": [
            {"session": line.session.pk, "date": line.session.date.isoformat(),
             "class_name": line.session.temporary_class.name,
             "start": line.session.start.strftime("%H:%M"),
             "end": line.session.end.strftime("%H:%M"), "status": line.status,
             "leave": line.leave,
             "handoff": services.handoff_json(line.handoff) if line.handoff else None,
             "incidents": [services.incident_json(i) for i in line.incidents]}
            for line in lines]})
