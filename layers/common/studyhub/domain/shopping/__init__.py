"""The shopping group's rules (API.md)."""
