"""The API's request parsers: DRF's, with limits, so that no body makes the server answer 500.

Python's JSON decoder recurses once per level of nesting and raises RecursionError near a
thousand levels; it also accepts "\\u0000" and lone surrogates, which PostgreSQL cannot store.
DRF reads JSON and url-encoded bodies without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, and
child-validates every item of a list before a ListField's max_length is looked at (7 s and
more for 700,000 ids). So a JSON body is refused before parsing when too large or too deep,
and after parsing when a string cannot be stored or a list or object is too long."""

import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

MAX_DEPTH = 32
# Above the longest list any endpoint takes (5,000 ids of a bulk review).
MAX_ITEMS = 10_000

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("请求体过大。")
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None):
        detail = None
        if limit is not None:
            detail = _("请求体过大（最多 %(mb).1f MB）。") % {"mb": limit / 1024 / 1024}
        super().__init__(detail)


class TooManyFields(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("请求中的字段或文件过多。")
    default_code = "too_many_fields"


def refuse_if_larger_than(parser_context, limit: int) -> None:
    """413 when the declared body is over `limit` bytes; Django's request stream never reads
    past the declared length."""
    meta = parser_context["request"].META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError(_("Content-Length 无效。")) from None
    if length > limit:
        raise RequestTooLarge(limit)


def nesting_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, outside its strings (no recursion)."""
    opening = text.count("[") + text.count("{")
    if opening <= MAX_DEPTH:  # the usual body: no need to look closer
        return opening
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _check_values(data) -> None:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value or not _encodable(value):
                raise ParseError(_("JSON 中含有不允许的字符（NUL 或无效的 Unicode）。"))
        elif isinstance(value, list | dict):
            if len(value) > MAX_ITEMS:
                raise ParseError(_("JSON 中的列表或对象过长（最多 %(limit)d 项）。")
                                 % {"limit": MAX_ITEMS})
            if isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            else:
                stack.extend(value)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        refuse_if_larger_than(parser_context, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        encoding = parsers.get_encoding(parser_context)
        try:
            text = stream.read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1).decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(_("请求体不是有效的 %(encoding)s 文本。")
                             % {"encoding": encoding}) from None
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(_("JSON 嵌套过深（最多 %(limit)d 层）。") % {"limit": MAX_DEPTH})
        try:
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(_("JSON 嵌套过深（最多 %(limit)d 层）。")
                             % {"limit": MAX_DEPTH}) from None
        except ValueError as exc:
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": exc}) from None
        _check_values(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        refuse_if_larger_than(parser_context or {}, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return super().parse(stream, media_type, parser_context)


class MultiPartParser(parsers.MultiPartParser):
    """Files are not counted in DATA_UPLOAD_MAX_MEMORY_SIZE: the whole body is held to
    UPLOAD_MAX_REQUEST_SIZE before a byte of it is written to a temporary file."""

    def parse(self, stream, media_type=None, parser_context=None):
        refuse_if_larger_than(parser_context or {}, settings.UPLOAD_MAX_REQUEST_SIZE)
        return super().parse(stream, media_type, parser_context)
