"""The OpenAPI schema says what the API does (API.md), in one place: the error statuses each
operation may answer and their body, the query filters as schools.params reads them, list and
text limits, one format for times of day.

Every operation gets, from what it takes and who may call it:
- 400 `ValidationError` when it takes a body or a query filter (a field's messages, or a
  `detail` and a `code`);
- 401 when it needs a caller (`WWW-Authenticate: Token`);
- 403 for a write (a session caller without the CSRF token, or an action refused to this user);
- 404 when its path names an object, it is a list (a page past the end) or its body names
  objects: outside the caller's scope is a 404, never the data;
- 413 and 415 when it takes a body (too large for the parsers of schools.api_parsers, or of a
  media type they do not read).
A view states the rest with `@extend_schema(responses=...)`: a 409 with its `code`s
(`conflict`), a 429 (`error`). Nothing here decides what the API answers; the fuzz test
(tests/test_schema_fuzz.py) holds the two together."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import permissions, serializers

# What int_param accepts: one to eighteen ASCII digits.
MAX_ID = 10**18 - 1
TIME_OUT = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TIME_IN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


class ErrorSerializer(serializers.Serializer):
    """An error as a sentence and a code (`not_found`, `class_full`, ...); a 409 may carry
    more keys saying why (the problems a menu's publication found, ...)."""

    detail = serializers.CharField()
    code = serializers.CharField()


FIELD_ERRORS = {
    "type": "object",
    "description": "Each refused field (or `non_field_errors`) with its messages; a list or "
                   "nested field's messages by item index or key.",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                       {"type": "object"}]},
    "minProperties": 1,
}

GENERIC = {
    400: _("请求无效：各字段的错误信息（{\"字段\": [\"信息\"]}），或 detail 与 code。"),
    401: _("未登录，或令牌无效、已过期。"),
    403: _("已登录但无权执行此操作（会话调用缺少 CSRF 令牌，或 code 说明的拒绝）。"),
    404: _("对象不存在或不在调用者的范围内；列表的页码超出范围。"),
    413: _("请求体过大。"),
    415: _("请求体的媒体类型不受支持。"),
}


def error(description) -> OpenApiResponse:
    """An error response (`detail`, `code`), e.g. a view's 429."""
    return OpenApiResponse(ErrorSerializer, description=description)


def conflict(*codes: str) -> OpenApiResponse:
    """A 409 whose `code` is one of `codes` (API.md: `code` says which)."""
    return error(format_lazy(_("状态冲突，code 为以下之一：{codes}。"), codes=", ".join(codes)))


# --- Query filters, as schools.params reads them -------------------------------------------

def _query(name: str, schema: dict, description) -> OpenApiParameter:
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description)


def int_filter(name: str, description) -> OpenApiParameter:
    return _query(name, {"type": "integer", "minimum": 0, "maximum": MAX_ID}, description)


def date_filter(name: str, description) -> OpenApiParameter:
    return _query(name, {"type": "string", "format": "date"}, description)


def choice_filter(name: str, choices, description) -> OpenApiParameter:
    values = [str(c) for c in getattr(choices, "values", choices)]
    return _query(name, {"type": "string", "enum": values}, description)


def bool_filter(name: str, description) -> OpenApiParameter:
    return _query(name, {"type": "boolean"}, description)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        # ScopedListApi: each of `filters` (parameter → lookup) is an integer
        # (schools.params.int_param), an id unless it names a number such as a grade.
        filters = getattr(self.view, "filters", None)
        if self.method == "GET" and isinstance(filters, dict):
            parameters = [*parameters, *(
                int_filter(name, format_lazy(_("按 {name}（id）筛选。") if lookup.endswith("_id")
                                             else _("按 {name} 筛选。"), name=name))
                for name, lookup in filters.items())]
        return parameters

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        # An input serializer is only ever a request: "ReviewInput", not "ReviewInputRequest".
        return name.removesuffix("Request") if name.endswith("InputRequest") else name

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is None:
            return schema
        if isinstance(field, serializers.TimeField):
            # Local times of day as REST_FRAMEWORK's TIME_FORMAT writes them ("16:20");
            # seconds are accepted on input.
            schema.pop("format", None)
            schema["pattern"] = TIME_OUT if direction == "response" else TIME_IN
            schema.setdefault("example", "16:20")
        elif (isinstance(field, serializers.ListField) and not field.allow_empty
              and direction == "request"):
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status, description in self._error_statuses(operation).items():
            responses.setdefault(str(status), self._error_response(status, description))
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 1}, "required": True,
                "description": _("多少秒后可以再试。")}
        return operation

    def _error_statuses(self, operation) -> dict:
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        in_path = any(p["in"] == "path" for p in parameters)
        body = "requestBody" in operation
        anonymous = any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())
        statuses = []
        if body or query - {"page"}:
            statuses.append(400)
        if not anonymous:
            statuses.append(401)
        if self.method not in permissions.SAFE_METHODS:
            statuses.append(403)
        if not anonymous and (in_path or "page" in query or body):
            statuses.append(404)
        if body:
            statuses += [413, 415]
        return {status: GENERIC[status] for status in statuses}

    def _error_response(self, status: int, description) -> dict:
        if status == 400:
            detail = self.resolve_serializer(ErrorSerializer, "response").ref
            component = ResolvedComponent(
                name="ValidationError", type=ResolvedComponent.SCHEMA, object="ValidationError",
                schema={"anyOf": [detail, {"$ref": "#/components/schemas/FieldErrors"}]})
            self.registry.register_on_missing(component)
            self.registry.register_on_missing(ResolvedComponent(
                name="FieldErrors", type=ResolvedComponent.SCHEMA, object="FieldErrors",
                schema=FIELD_ERRORS))
            return {**self._get_response_for_code(component.ref, "400"),
                    "description": description}
        response = self._get_response_for_code(error(description), str(status))
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {
                "schema": {"type": "string", "enum": ["Token"]}, "required": True,
                "description": _("令牌认证：Authorization: Token <key>。")}}
        return response
