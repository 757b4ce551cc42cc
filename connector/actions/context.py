"""Who acts: every change in the timeline names a person, the platform or the system."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from connector.domain import EventSource


@dataclass(frozen=True, slots=True)
class Actor:
    """The one on whose behalf an action runs; ``name`` is shown in the invoice's timeline."""

    name: str
    source: EventSource

    @classmethod
    def person(cls, name: str) -> Actor:
        return cls(name.strip() or "unknown person", EventSource.PERSON)

    @classmethod
    def platform(cls, name: str = "platform") -> Actor:
        return cls(name, EventSource.PLATFORM)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(name, EventSource.SYSTEM)

    @classmethod
    def terminal_user(cls) -> Actor:
        """The person at this terminal (the CLI's actor), by their login name."""
        try:
            return cls.person(getpass.getuser())
        except (KeyError, OSError):  # no passwd entry in some containers
            return cls.person("cli")
