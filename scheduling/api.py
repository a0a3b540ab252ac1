"""Scheduling REST endpoints (API.md, Scheduling table), plus the principal's menu building
and the moves after allocation. Thin: parse, call a selector or a service, serialise."""


from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.errors import PolicyViolation
from schools.models import MANAGER_ROLES, ServiceSlot, Staff
from schools.openapi import conflict, date_filter, int_filter
from schools.params import date_param, int_param
from schools.selectors import children_of, school_ids_for, schools_visible_to

from . import selectors, services
from .models import Activity, Menu, MenuItem, Placement, TemporaryClass


class MenuItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MenuItem
        fields = ["id", "activity", "activity_name", "category", "slot", "teacher", "room",
                  "grades", "capacity", "seats_left", "start", "end"]

    activity_name = serializers.CharField(source="activity.name")
    category = serializers.CharField(source="activity.category")
    teacher = serializers.SerializerMethodField()
    seats_left = serializers.SerializerMethodField()

    def get_teacher(self, item) -> str | None:
        return item.teacher.name if item.teacher else None

    def get_seats_left(self, item) -> int:
        seats = min(item.capacity, item.menu.school.temp_class_cap)
        return max(seats - getattr(item, "seated", 0), 0)


class MenuOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Menu
        fields = ["id", "school", "term", "week", "status", "version", "choice_deadline",
                  "published_at", "items"]

    items = MenuItemOutputSerializer(many=True)


def _with_items(qs):
    items = (MenuItem.objects.select_related("activity", "slot", "teacher", "menu__school")
             .annotate(seated=Count("classes__placements")))
    return qs.prefetch_related(Prefetch("items", queryset=items))


@extend_schema_view(get=extend_schema(parameters=[
    int_filter("school", gettext_lazy("只列这所学校（id）的菜单。")),
    date_filter("week", gettext_lazy("只列这一周（周一的日期）的菜单。"))]))
class MenuListApi(generics.ListAPIView):
    serializer_class = MenuOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MenuCreateInput"

        school = serializers.IntegerField()
        week = serializers.DateField()
        choice_deadline = serializers.DateTimeField(required=False, allow_null=True,
                                                    default=None)
        copy_previous = serializers.BooleanField(required=False, default=False)

    def get_queryset(self):
        qs = selectors.menus_visible_to(self.request.user)
        params = self.request.query_params
        if (school := int_param(params, "school")) is not None:
            qs = qs.filter(school_id=school)
        if (week := date_param(params, "week")) is not None:
            qs = qs.filter(week=week)
        return _with_items(qs).order_by("-week", "school_id")

    @extend_schema(request=InputSerializer, responses={
        201: MenuOutputSerializer, 409: conflict("menu_exists")})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        school = get_object_or_404(schools_visible_to(request.user).filter(
            pk__in=school_ids_for(request.user, MANAGER_ROLES)),
            pk=data.validated_data["school"])
        menu = services.menu_create(
            school=school, week=data.validated_data["week"], user=request.user,
            choice_deadline=data.validated_data["choice_deadline"],
            copy_previous=data.validated_data["copy_previous"])
        menu = _with_items(Menu.objects.filter(pk=menu.pk)).get()
        return Response(MenuOutputSerializer(menu).data, status=status.HTTP_201_CREATED)


class MenuDetailApi(generics.RetrieveAPIView):
    serializer_class = MenuOutputSerializer

    def get_queryset(self):
        return _with_items(selectors.menus_visible_to(self.request.user))


class MenuItemAddApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MenuItemInput"

        activity = serializers.IntegerField()
        slot = serializers.IntegerField()
        teacher = serializers.IntegerField(required=False, allow_null=True, default=None)
        room = serializers.CharField(required=False, allow_null=True, default=None,
                                     max_length=60, allow_blank=True)
        grades = serializers.ListField(child=serializers.IntegerField(min_value=1,
                                                                      max_value=9),
                                       required=False, allow_null=True, default=None,
                                       max_length=9)
        capacity = serializers.IntegerField(required=False, allow_null=True, default=None,
                                            min_value=1, max_value=500)
        start = serializers.TimeField(required=False, allow_null=True, default=None)
        end = serializers.TimeField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={
        201: MenuItemOutputSerializer, 409: conflict("invalid_transition", "item_exists")})
    def post(self, request, pk: int):
        menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        activity = Activity.objects.filter(school=menu.school, pk=v["activity"]).first()
        if activity is None:
            raise PolicyViolation(_not_found("activity"), field="activity")
        slot = ServiceSlot.objects.filter(term=menu.term, pk=v["slot"]).first()
        if slot is None:
            raise PolicyViolation(_not_found("slot"), field="slot")
        teacher = None
        if v["teacher"] is not None:
            teacher = Staff.objects.filter(school=menu.school, pk=v["teacher"]).first()
            if teacher is None:
                raise PolicyViolation(_not_found("teacher"), field="teacher")
        item = services.menu_item_add(
            menu=menu, user=request.user, activity=activity, slot=slot, teacher=teacher,
            room=v["room"], grades=v["grades"], capacity=v["capacity"], start=v["start"],
            end=v["end"])
        item = MenuItem.objects.select_related("activity", "teacher", "menu__school").get(
            pk=item.pk)
        return Response(MenuItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


def _not_found(what: str) -> str:
    return {"activity": _("本校没有这个活动。"), "slot": _("本周所在学期没有这个时段。"),
            "teacher": _("本校没有这位教职工。"), "student": _("没有这个学生。"),
            "ranked": _("所选活动不在本周该时段的菜单中。"),
            "class": _("没有这个临时班。")}[what]


class MenuPublishApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MenuPublishInput"

        acknowledge_warnings = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MenuPublishOutput"

        status = serializers.CharField()
        version = serializers.IntegerField()
        warnings = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses={
        200: OutputSerializer,
        409: conflict("invalid_transition", "policy_check_failed", "warnings_unacknowledged")})
    def post(self, request, pk: int):
        menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        menu = services.menu_publish(menu=menu, user=request.user, **data.validated_data)
        return Response({"status": menu.status, "version": menu.version,
                         "warnings": menu.acknowledged_warnings})


class ChoicesApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChoicesInput"

        student = serializers.IntegerField()
        slot = serializers.IntegerField()
        ranked = serializers.ListField(child=serializers.IntegerField(), allow_empty=True,
                                       max_length=9)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChoicesOutput"

        student = serializers.IntegerField()
        slot = serializers.IntegerField()
        ranked = serializers.ListField(child=serializers.IntegerField(), max_length=20)

    @extend_schema(request=InputSerializer, responses={
        201: OutputSerializer, 409: conflict("menu_not_open", "deadline_passed")})
    def post(self, request, pk: int):
        menu = get_object_or_404(selectors.menus_visible_to(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        student = get_object_or_404(children_of(request.user), pk=v["student"])
        slot = ServiceSlot.objects.filter(term=menu.term, pk=v["slot"]).first()
        if slot is None:
            raise PolicyViolation(_not_found("slot"), field="slot")
        services.choices_set_many(menu=menu, student=student, user=request.user,
                                  rankings=[(slot, v["ranked"])])
        return Response({"student": student.pk, "slot": slot.pk, "ranked": v["ranked"]},
                        status=status.HTTP_201_CREATED)


class AllocateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AllocateInput"

        preview = serializers.BooleanField(required=False, default=False)
        seed = serializers.RegexField(r"^[0-9A-Za-z_-]{1,64}$", required=False,
                                      allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AllocateOutput"

        placed = serializers.IntegerField()
        first_choice = serializers.IntegerField()
        second_choice = serializers.IntegerField()
        third_choice = serializers.IntegerField()
        unplaced = serializers.IntegerField()
        priority_unplaced = serializers.IntegerField()
        classes = serializers.IntegerField()
        study_hall = serializers.IntegerField()
        no_choice = serializers.IntegerField()
        seed = serializers.CharField()
        run = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={
        200: OutputSerializer, 409: conflict("invalid_transition", "deadline_not_passed")})
    def post(self, request, pk: int):
        menu = get_object_or_404(selectors.menus_managed_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stats = services.menu_allocate(menu=menu, user=request.user,
                                       commit=not data.validated_data["preview"],
                                       seed=data.validated_data["seed"])
        return Response(stats)


class TemporaryClassOutputSerializer(serializers.ModelSerializer):
    """A class list for the teachers who serve it: members as ids, never a child's priority
    (PIPL: only those who decide see it, `schools.selectors.sees_priority_categories`)."""

    class Meta:
        model = TemporaryClass
        fields = ["id", "name", "menu", "slot", "kind", "cap", "capacity", "head_teacher",
                  "room", "start", "end", "members"]

    cap = serializers.IntegerField(source="menu.school.temp_class_cap")
    head_teacher = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()

    def get_head_teacher(self, cls) -> str | None:
        return cls.head_teacher.name if cls.head_teacher else None

    def get_members(self, cls) -> list[int]:
        members = [p.student_id for p in cls.placements.all()]
        own = selectors.own_children_only(self.context.get("request"), cls)
        return members if own is None else [m for m in members if m in own]


@extend_schema_view(get=extend_schema(parameters=[
    int_filter("menu", gettext_lazy("只列这份菜单（id）的临时班。")),
    int_filter("slot", gettext_lazy("只列这个时段（id）的临时班。"))]))
class TemporaryClassListApi(generics.ListAPIView):
    serializer_class = TemporaryClassOutputSerializer

    def get_queryset(self):
        qs = selectors.temporary_classes_visible_to(self.request.user)
        params = self.request.query_params
        if (menu := int_param(params, "menu")) is not None:
            qs = qs.filter(menu_id=menu)
        if (slot := int_param(params, "slot")) is not None:
            qs = qs.filter(slot_id=slot)
        return qs.prefetch_related("placements").order_by("menu_id", "slot__weekday",
                                                          "slot__start", "kind", "name", "pk")


class TemporaryClassDetailApi(generics.RetrieveAPIView):
    serializer_class = TemporaryClassOutputSerializer

    def get_queryset(self):
        return selectors.temporary_classes_visible_to(self.request.user).prefetch_related(
            "placements")


class MembersApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MemberAddInput"

        student = serializers.IntegerField()
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=200)

    @extend_schema(request=InputSerializer, responses={
        201: TemporaryClassOutputSerializer, 409: conflict("already_placed", "class_full")})
    def post(self, request, pk: int):
        cls = get_object_or_404(selectors.classes_managed_by(request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.placement_add_to_class(temporary_class=cls, user=request.user,
                                        student_id=data.validated_data["student"],
                                        reason=data.validated_data["reason"])
        cls = selectors.classes_managed_by(request.user).prefetch_related("placements").get(
            pk=cls.pk)
        return Response(TemporaryClassOutputSerializer(cls, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class PlacementMoveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlacementMoveInput"

        to = serializers.IntegerField()
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=200)

    @extend_schema(request=InputSerializer, responses={
        200: inline_serializer("PlacementMoveOutput", {"placement": serializers.IntegerField(),
                                                       "class": serializers.IntegerField()}),
        409: conflict("class_full")})
    def post(self, request, pk: int):
        placement = get_object_or_404(Placement.objects.filter(
            temporary_class__in=selectors.classes_managed_by(request.user)), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.classes_managed_by(request.user).filter(
            pk=data.validated_data["to"]).first()
        if target is None:
            raise PolicyViolation(_not_found("class"), field="to")
        placement = services.placement_move(placement=placement, to=target, user=request.user,
                                            reason=data.validated_data["reason"])
        return Response({"placement": placement.pk, "class": placement.temporary_class_id})


class PlacementSwapApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlacementSwapInput"

        first = serializers.IntegerField()
        second = serializers.IntegerField()
        reason = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=200)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlacementSwapOutput"

        placements = serializers.DictField(child=serializers.IntegerField(),
                                           help_text="placement id → its class now")

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        managed = Placement.objects.filter(
            temporary_class__in=selectors.classes_managed_by(request.user))
        first = get_object_or_404(managed, pk=data.validated_data["first"])
        second = get_object_or_404(managed, pk=data.validated_data["second"])
        a, b = services.placement_swap(first=first, second=second, user=request.user,
                                       reason=data.validated_data["reason"])
        return Response({"placements": {str(a.pk): a.temporary_class_id,
                                        str(b.pk): b.temporary_class_id}})
