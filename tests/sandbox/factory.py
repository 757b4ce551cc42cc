"""The shape every sandbox test fixture shares: start sandboxes with test defaults, check
every response they send, stop them after the test and fail it on any rejected response."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import pytest


class Checker(Protocol):
    """An observer that collects the problems it finds in the responses it sees."""

    problems: list[str]

    def __call__(self, exchange: Any) -> None: ...


S = TypeVar("S")


def checked_sandboxes(
    sandbox_class: Callable[..., S],
    checker: Checker,
    defaults: Callable[[], dict[str, Any]],
    rejected_by: str,
    shown: int,
) -> Iterator[Callable[..., S]]:
    """A generator fixture body: yields ``make(**kwargs)``, which starts a sandbox with
    ``defaults()`` for the arguments not given and ``checker`` as an observer; afterwards
    stops them all and fails the test with the first ``shown`` problems ``rejected_by``
    (e.g. "the Xero spec") reported."""
    started: list[Any] = []
    first_problem = len(checker.problems)

    def make(**kwargs: Any) -> S:
        for name, value in defaults().items():
            kwargs.setdefault(name, value)
        sb: Any = sandbox_class(**kwargs)
        sb.add_observer(checker)
        started.append(sb.start())
        return sb  # type: ignore[no-any-return]

    yield make
    for sb in started:
        sb.stop()
    problems = checker.problems[first_problem:]
    if problems:
        pytest.fail(f"responses {rejected_by} rejects:\n" + "\n".join(problems[:shown]), pytrace=False)
