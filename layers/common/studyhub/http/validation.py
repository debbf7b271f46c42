"""Request bodies validated by pydantic models: the rules and their Chinese messages live in
``studyhub.core.validation`` (the domain validates uploaded rows with them too)."""

from studyhub.core.validation import field_errors, validate

__all__ = ["field_errors", "validate"]
