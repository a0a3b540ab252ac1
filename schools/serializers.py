from rest_framework import serializers

from .models import (
    AuditEntry,
    Guardian,
    Homeroom,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
)


class StudentSerializer(serializers.ModelSerializer):
    grade = serializers.IntegerField(source="grade.number", read_only=True)
    homeroom_name = serializers.CharField(source="homeroom.__str__", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Student
        fields = ["id", "name", "school", "school_name", "grade", "homeroom", "homeroom_name",
                  "student_no", "gender", "boarding", "bus_rider", "priority_categories",
                  "active"]


class ServiceSlotSerializer(serializers.ModelSerializer):
    start = serializers.TimeField(format="%H:%M")
    end = serializers.TimeField(format="%H:%M")

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
