"""What every group's request bodies share: the base model and the id type.

Bodies ignore unknown fields and trim strings; schemas are built on first use (``defer_build``),
not at import, so a function's cold start stays small. An ``Id`` is an integer from 1 to 2^53−1
and never a JSON ``true`` (pydantic's lax mode would read it as 1).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_ID = 2**53 - 1


def no_bool(value: Any) -> Any:
    """JSON true/false are not numbers here (pydantic's lax mode would read them as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("请填写合法的整数值。")
    return value


# The bounds before the validator: the same check, and the JSON schema gets minimum/maximum.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(no_bool)]


def _document_trimming(schema: dict[str, Any]) -> None:
    """Strings are trimmed before their length is checked, so a required text (``minLength`` ≥ 1)
    must hold a character that isn't a space: the document says so with a pattern."""
    for prop in schema.get("properties", {}).values():
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
