"""Roster reads (API.md "Roster"). Every queryset comes from schools.selectors, so an object
outside the caller's scope is a 404."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .audit import audit_history
from .params import int_param
from .serializers import (
    AuditEntrySerializer,
    GuardianSerializer,
    HomeroomSerializer,
    SchoolSerializer,
    StaffSerializer,
    StudentSerializer,
    TermSerializer,
)


class MeApi(APIView):
    @extend_schema(responses=inline_serializer("Me", {
        "username": serializers.CharField(), "display_name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.DictField()),
        "children": StudentSerializer(many=True)}))
    def get(self, request):
        user = request.user
        return Response({
            "username": user.username,
            "display_name": user.display_name,
            "roles": selectors.roles_of(user),
            "children": StudentSerializer(selectors.children_of(user), many=True,
                                          context={"request": request}).data,
        })


class ScopedListApi(generics.ListAPIView):
    """A list from a selector, filtered by the given integer query parameters."""

    selector = None
    filters: dict[str, str] = {}

    def get_queryset(self):
        qs = type(self).selector(self.request.user)
        for param, lookup in self.filters.items():
            if (value := int_param(self.request.query_params, param)) is not None:
                qs = qs.filter(**{lookup: value})
        return qs


class ScopedDetailApi(generics.RetrieveAPIView):
    selector = None

    def get_queryset(self):
        return type(self).selector(self.request.user)


class StudentListApi(ScopedListApi):
    serializer_class = StudentSerializer
    selector = staticmethod(selectors.students_visible_to)
    filters = {"school": "school_id", "homeroom": "homeroom_id", "grade": "grade__number"}


class StudentDetailApi(ScopedDetailApi):
    serializer_class = StudentSerializer
    selector = staticmethod(selectors.students_visible_to)


class StudentHistoryApi(generics.ListAPIView):
    """The audit trail of one student, for the school's staff (not for guardians)."""

    serializer_class = AuditEntrySerializer

    def get_queryset(self):
        student = generics.get_object_or_404(
            selectors.students_visible_to(self.request.user), pk=self.kwargs["pk"])
        if not selectors.is_staff_of_school(self.request.user, student.school_id):
            raise Http404
        return audit_history(student)


class TermListApi(ScopedListApi):
    serializer_class = TermSerializer
    selector = staticmethod(selectors.terms_visible_to)
    filters = {"school": "school_id"}


class TermDetailApi(ScopedDetailApi):
    serializer_class = TermSerializer
    selector = staticmethod(selectors.terms_visible_to)


class SchoolListApi(ScopedListApi):
    serializer_class = SchoolSerializer
    selector = staticmethod(selectors.schools_visible_to)
    filters = {"district": "district_id"}


class SchoolDetailApi(ScopedDetailApi):
    serializer_class = SchoolSerializer
    selector = staticmethod(selectors.schools_visible_to)


class HomeroomListApi(ScopedListApi):
    serializer_class = HomeroomSerializer
    selector = staticmethod(selectors.homerooms_visible_to)
    filters = {"school": "school_id", "grade": "grade__number"}


class HomeroomDetailApi(ScopedDetailApi):
    serializer_class = HomeroomSerializer
    selector = staticmethod(selectors.homerooms_visible_to)


class StaffListApi(ScopedListApi):
    serializer_class = StaffSerializer
    selector = staticmethod(selectors.staff_visible_to)
    filters = {"school": "school_id"}


class StaffDetailApi(ScopedDetailApi):
    serializer_class = StaffSerializer
    selector = staticmethod(selectors.staff_visible_to)


class GuardianListApi(ScopedListApi):
    serializer_class = GuardianSerializer
    selector = staticmethod(selectors.guardians_visible_to)


class GuardianDetailApi(ScopedDetailApi):
    serializer_class = GuardianSerializer
    selector = staticmethod(selectors.guardians_visible_to)
