"""What every group's request bodies share: the base model and the id type.

Bodies ignore unknown fields and trim strings; schemas are built on first use (``defer_build``),
not at import, so a function's cold start stays small. An ``Id`` is an integer from 1 to 2^53−1
and never a JSON ``true`` (pydantic's lax mode would read it as 1).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_ID = 2**53 - 1


def no_bool(value: Any) -> Any:
    """JSON true/false are not numbers here (pydantic's lax mode would read them as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("请填写合法的整数值。")
    return value


# The bounds before the validator: the same check, and the JSON schema gets minimum/maximum.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(no_bool)]


def not_null(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of a PATCH field that may be left out (``None``: unchanged) but not
    sent as ``null``, which the domain refuses ("该字段不能为空"): the document drops the null."""
    branches = [b for b in schema.pop("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


def _whole_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("请填写合法的整数值。")
    return value


#: An integer as JSON Schema means it: a number without a fraction (``3`` or ``3.0``), never
#: ``true`` or the text ``"3"``, which pydantic's lax mode would read as 1 and 3.
WHOLE_NUMBER = BeforeValidator(_whole_number)


def exact_decimal(places: int, text: str) -> BeforeValidator:
    """A decimal as JSON sends it: a string must match ``text`` (the pattern the document states);
    a number within 1e-9 of a multiple of 10^-places is that multiple, since JSON numbers are
    binary floats (0.3 computed as 3 * 0.1 arrives as 0.30000000000000004)."""
    pattern = re.compile(text)
    quantum = Decimal(1).scaleb(-places)

    def read(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError("请填写合法的数值。")
        if isinstance(value, float) and math.isfinite(value) and abs(value) < 1e12:
            exact = Decimal(repr(value))
            nearest = exact.quantize(quantum)
            if abs(exact - nearest) < Decimal("1e-9"):
                return nearest
        return value

    return BeforeValidator(read)


def _taken_as_typed(parts: list[Any]) -> bool:
    """Whether a field's metadata or annotation (through ``X | None`` and ``Annotated``) says
    ``strip_whitespace=False``."""
    while parts:
        part = parts.pop()
        if getattr(part, "strip_whitespace", None) is False:
            return True
        parts.extend(get_args(part))
        parts.extend(getattr(part, "__metadata__", ()))
    return False


def _document_trimming(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Strings are trimmed before their length is checked, so a required text (``minLength`` ≥ 1)
    must hold a character that isn't a space: the document says so with a pattern (not for the
    fields taken as typed, ``strip_whitespace=False``: passwords, new usernames)."""
    for name, prop in schema.get("properties", {}).items():
        if "default" in prop and prop["default"] is None and {"type": "null"} not in prop.get("anyOf", []):
            del prop["default"]  # a field that may be left out but not sent as null (see not_null)
        field = model.model_fields.get(name)
        if field is not None and _taken_as_typed([*field.metadata, field.annotation]):
            continue
        for branch in [prop, *prop.get("anyOf", [])]:
            if branch.get("type") == "string" and branch.get("minLength", 0) >= 1 and "pattern" not in branch:
                branch["pattern"] = r"\S"


class Body(BaseModel):
    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, defer_build=True, json_schema_extra=_document_trimming
    )


# --- response shapes (the OpenAPI document's, never used to validate at run time) ------------

# A decimal with two places, as JSON text ("3999.00"), as the serializers write it.
Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["3999.00"])]


class Public(BaseModel):
    """A resource as the serializers return it: the response half of the contract."""

    model_config = ConfigDict(defer_build=True)


class FileUrlPublic(Public):
    """An uploaded file's public URL (avatars, commodity images)."""

    data: str
