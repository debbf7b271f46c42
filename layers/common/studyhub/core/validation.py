"""Input validated by pydantic models; failures become the contract's 400 with the ``errors``
map, in Chinese. In core, not http: request bodies (``Req.parse``) use it, and so do the rules
that validate rows of an uploaded file (a class roster) with the same models and messages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar

from studyhub.core import errors

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound="BaseModel")

_OBJECT = "请输入 JSON 对象。"
_LIST = "请输入列表。"
_NUMBER = "请填写合法的数字。"
_DATE = "请输入合法的日期（YYYY-MM-DD）。"
_DATETIME = "请输入合法的日期时间（ISO 8601，如 2026-11-24T13:05:09+08:00）。"
_TIME = "请输入合法的时间（HH:MM:SS）。"
_URL = "请输入合法的网址。"
_UUID = "请输入合法的 UUID。"
_TEXT = "请输入字符串。"
INVALID = "值不合法。"  # a type pydantic may add one day: still Chinese, never its English

# Every error type pydantic (2.x) raises while validating JSON input, in words a frontend can
# show; ``{name}`` is filled from the error's ``ctx`` (the limit broken, the allowed values).
_MESSAGES = {
    "missing": "该字段是必填项。",
    "string_type": _TEXT,
    "string_sub_type": _TEXT,
    "string_unicode": "请输入合法的 UTF-8 文本。",
    "string_too_short": "至少 {min_length} 个字符。",
    "string_too_long": "最多 {max_length} 个字符。",
    "string_pattern_mismatch": "格式不正确。",
    "string_not_ascii": "只能包含英文字母、数字和符号。",
    "int_type": "请填写合法的整数值。",
    "int_parsing": "请填写合法的整数值。",
    "int_parsing_size": "整数超出范围。",
    "int_from_float": "请填写整数（不能有小数部分）。",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": "请填写有限的数字。",
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "最多 {max_digits} 位数字。",
    "decimal_max_places": "最多 {decimal_places} 位小数。",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位。",
    "complex_type": _NUMBER,
    "complex_str_parsing": _NUMBER,
    "greater_than": "必须大于 {gt}。",
    "greater_than_equal": "不能小于 {ge}。",
    "less_than": "必须小于 {lt}。",
    "less_than_equal": "不能大于 {le}。",
    "multiple_of": "必须是 {multiple_of} 的倍数。",
    "bool_type": "请输入合法的布尔值。",
    "bool_parsing": "请输入合法的布尔值。",
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "iteration_error": _LIST,
    "set_item_not_hashable": "列表中有不合法的项。",
    "too_short": "至少 {min_length} 项。",
    "too_long": "最多 {max_length} 项。",
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "dataclass_exact_type": _OBJECT,
    "invalid_key": "对象的键必须是字符串。",
    "json_invalid": "JSON 格式错误。",
    "json_type": "请输入 JSON 文本。",
    "recursion_loop": "数据嵌套过深。",
    "enum": "必须是以下之一：{expected}。",
    "literal_error": "必须是以下之一：{expected}。",
    "none_required": "该字段必须为空。",
    "extra_forbidden": "不允许的字段。",
    "frozen_field": "该字段不能修改。",
    "frozen_instance": "该字段不能修改。",
    "union_tag_invalid": "类型不正确。",
    "union_tag_not_found": "缺少类型字段。",
    "bytes_type": _TEXT,
    "bytes_too_short": "至少 {min_length} 个字节。",
    "bytes_too_long": "最多 {max_length} 个字节。",
    "bytes_invalid_encoding": "编码不正确。",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "请输入日期（不含时间）。",
    "date_past": "必须是过去的日期。",
    "date_future": "必须是将来的日期。",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_past": "必须是过去的时间。",
    "datetime_future": "必须是将来的时间。",
    "timezone_naive": "不能带时区。",
    "timezone_aware": "必须带时区（如 +08:00）。",
    "timezone_offset": "时区不正确。",
    "time_type": _TIME,
    "time_parsing": _TIME,
    "time_delta_type": "请输入合法的时长。",
    "time_delta_parsing": "请输入合法的时长。",
    "url_type": _URL,
    "url_parsing": _URL,
    "url_syntax_violation": _URL,
    "url_too_long": "网址最多 {max_length} 个字符。",
    "url_scheme": "网址必须以 {expected_schemes} 开头。",
    "uuid_type": _UUID,
    "uuid_parsing": _UUID,
    "uuid_version": "UUID 版本必须是 {expected_version}。",
    "value_error": INVALID,
    "assertion_error": INVALID,
}


def _choices(expected: str) -> str:
    """pydantic's ``'a', 'b' or 'c'`` as ``a、b、c``."""
    return "、".join(part.strip().strip("'\"") for part in re.split(r", | or ", expected) if part.strip())


def _is_chinese(text: str) -> bool:
    """A message written for our users (custom validators raise them), not pydantic's English."""
    return any(ord(c) > 0x2E7F for c in text)


def _message(item: Any) -> str:
    kind = item["type"]
    ctx = dict(item.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):  # our validators' own messages, when they have one
        raised = str(ctx.get("message") or ctx.get("error") or "")
        return raised if _is_chinese(raised) else INVALID
    if kind not in _MESSAGES:  # PydanticCustomError with our message (invalid_password), or a new type
        return item["msg"] if _is_chinese(item["msg"]) else INVALID
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "该字段不能为空。"
    if "expected" in ctx:
        ctx["expected"] = _choices(str(ctx["expected"]))
    # a Decimal bound arrives as its repr ("Decimal('9999.9')"): the number alone
    ctx = {k: re.sub(r"^Decimal\('(.*)'\)$", r"\1", v) if isinstance(v, str) else v for k, v in ctx.items()}
    try:
        return _MESSAGES[kind].format(**ctx)
    except (KeyError, IndexError):  # a ctx without the value: the message without the number
        return re.sub(r"\s*\{\w+\}\s*", "", _MESSAGES[kind])


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as the contract's ``errors`` map: ``{field: [Chinese message, ...]}``."""
    by_field: dict[str, list[str]] = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        name = loc[0] if loc else "non_field_errors"
        by_field.setdefault(name, []).append(_message(item))
    return by_field


def validate(model: type[M], data: Any) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise errors.Invalid("请求参数有误", code="invalid", errors=field_errors(error)) from None
