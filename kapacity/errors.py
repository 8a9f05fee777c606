"""Kapacity's error hierarchy: every error names its place and what would be accepted."""

from __future__ import annotations


class KapacityError(Exception):
    """Base class: anything Kapacity refuses, with a message fit for a user."""


class HistoryError(KapacityError):
    """A history file or frame that cannot be used (too short, unparseable, ...)."""

    def __init__(self, message: str, *, place: str | None = None) -> None:
        self.place = place
        super().__init__(f"{place}: {message}" if place else message)


class ParameterError(KapacityError, ValueError):
    """A model, horizon or event parameter outside what is accepted."""


class EventError(KapacityError):
    """A known-future-event file (flash sales) that cannot be used."""

    def __init__(self, message: str, *, place: str | None = None) -> None:
        self.place = place
        super().__init__(f"{place}: {message}" if place else message)
