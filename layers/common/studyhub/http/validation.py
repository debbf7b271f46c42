"""Request bodies validated by pydantic models; failures become the contract's 400 with the
``errors`` map, in Chinese."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from studyhub.core import errors

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

_MESSAGES = {
    "missing": "该字段是必填项。",
    "string_type": "请输入字符串。",
    "int_type": "请填写合法的整数值。",
    "int_parsing": "请填写合法的整数值。",
    "bool_type": "请输入合法的布尔值。",
    "bool_parsing": "请输入合法的布尔值。",
    "list_type": "请输入列表。",
    "string_too_short": "该字段不能为空。",
    "string_too_long": "长度超出限制。",
    "string_pattern_mismatch": "格式不正确。",
    "value_error": "值不合法。",
    "greater_than_equal": "数值过小。",
    "less_than_equal": "数值过大。",
    "decimal_parsing": "请填写合法的数字。",
    "enum": "不是合法的选项。",
    "literal_error": "不是合法的选项。",
}


# Messages that name the limit the value broke (``ctx`` holds it).
_LIMIT_MESSAGES = {
    "string_too_long": "最多 {max_length} 个字符。",
    "too_long": "最多 {max_length} 项。",
}


def _message(item: Any) -> str:
    ctx = item.get("ctx") or {}
    if item["type"] == "value_error" and ctx.get("message"):
        return str(ctx["message"])
    if item["type"] in _LIMIT_MESSAGES and "max_length" in ctx:
        return _LIMIT_MESSAGES[item["type"]].format(max_length=ctx["max_length"])
    return str(_MESSAGES.get(item["type"], item["msg"]))


def validate(model: type[M], data: Any) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        field_errors: dict[str, list[str]] = {}
        for item in error.errors():
            loc = [str(p) for p in item["loc"]]
            name = loc[0] if loc else "non_field_errors"
            field_errors.setdefault(name, []).append(_message(item))
        raise errors.Invalid("请求参数有误", code="invalid", errors=field_errors) from None
