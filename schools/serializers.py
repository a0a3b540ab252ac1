from operator import attrgetter

from rest_framework import serializers

from .models import (
    AuditEntry,
    Guardian,
    Homeroom,
    PriorityCategory,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
)
from .selectors import sees_priority_categories


def reader_sees_priority(context: dict, student: Student) -> bool:
    """Whether the serializer's reader (its request's user) may see the child's sensitive
    data; without a request nobody may."""
    request = context.get("request")
    return request is not None and sees_priority_categories(request.user, student)


class _DecidersOnly:
    """A child's sensitive value (priority categories, claims, the priority flag) as it is for
    the readers `sees_priority_categories` allows — the child's guardians, homeroom teacher,
    the school's principal and office — and `null` for anyone else (a serving teacher,
    finance, the district) or when no request says who reads. The key is always present.
    `student` is the path from the object to the child ("student"; "" for a Student)."""

    def __init__(self, *args, student: str = "", **kwargs):
        self.student_path = student
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance):
        student = attrgetter(self.student_path)(instance) if self.student_path else instance
        if not reader_sees_priority(self.context, student):
            return None
        return super().get_attribute(instance)


class PriorityCategoriesField(_DecidersOnly, serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=PriorityCategory.choices),
                         **kwargs)


class PriorityFlagField(_DecidersOnly, serializers.BooleanField):
    pass


class StudentSerializer(serializers.ModelSerializer):
    """`priority_categories` is `null` for a reader who may not see it (a serving teacher,
    finance, the district: see `PriorityCategoriesField`), a list (maybe empty) otherwise."""

    grade = serializers.IntegerField(source="grade.number", read_only=True)
    homeroom_name = serializers.CharField(source="homeroom.__str__", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)
    priority_categories = PriorityCategoriesField()

    class Meta:
        model = Student
        fields = ["id", "name", "school", "school_name", "grade", "homeroom", "homeroom_name",
                  "student_no", "gender", "boarding", "bus_rider", "priority_categories",
                  "active"]


class ServiceSlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceSlot
        fields = ["id", "kind", "weekday", "start", "end", "class_hours"]


class TermSerializer(serializers.ModelSerializer):
    slots = ServiceSlotSerializer(many=True, read_only=True)

    class Meta:
        model = Term
        fields = ["id", "school", "name", "start", "end", "excluded_weekdays", "slots"]


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "name", "code", "stage", "district", "temp_class_cap",
                  "withdrawal_notice_days", "latest_end_summer", "latest_end_winter",
                  "fee_mode", "fee_per_hour", "fee_per_term", "choices_per_slot",
                  "complaint_phone", "complaint_email"]


class HomeroomSerializer(serializers.ModelSerializer):
    grade = serializers.IntegerField(source="grade.number", read_only=True)
    head_teacher_name = serializers.CharField(source="head_teacher.name", default="",
                                              read_only=True)

    class Meta:
        model = Homeroom
        fields = ["id", "school", "grade", "name", "head_teacher", "head_teacher_name"]


class StaffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Staff
        fields = ["id", "school", "name", "kind", "provider_name", "active"]


class GuardianSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guardian
        fields = ["id", "name", "phone"]


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.__str__", default=None, read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "action", "object_repr", "data"]
