"""The work group's rules (API.md)."""
