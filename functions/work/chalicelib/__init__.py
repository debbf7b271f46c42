"""The work group's rules: labels, topics and topic search (API.md §4)."""
