"""The school group's rules (API.md)."""
