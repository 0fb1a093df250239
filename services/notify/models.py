"""The notify service's own tables."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
