"""All models, one module per group; importing this package registers every table."""
from .base import Base, utcnow  # noqa: F401
from . import users  # noqa: F401
from .users import Address, Area, Group, User  # noqa: F401
