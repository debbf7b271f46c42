"""Lengths the shop's schemas and routes agree on, in a module that imports nothing: the
commodities list checks its search term with them without loading pydantic or the schemas."""

NAME_MAX_LENGTH = 200  # a commodity's name (its column's length); a search term at most as long
