"""The community group's rules (API.md)."""
