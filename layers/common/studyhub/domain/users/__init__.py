"""The users group's rules (API.md)."""
