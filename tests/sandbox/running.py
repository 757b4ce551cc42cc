"""Watching a sandbox run, for the tests of both: as a child process a newcomer starts and stops
with Ctrl-C, and the sleeps the sandbox's own code makes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# How long to wait for the child to print its banner or to stop: a bound for a hung child, never a
# measurement, so generous enough for a machine under full load.
PATIENCE_SECONDS = 300


@contextmanager
def ctrl_c_reaches_children() -> Iterator[None]:
    """Let a child started in this block see SIGINT (Ctrl-C) even if this run ignores it.

    A test run started in the background by a shell without job control (``pytest ... &`` in a
    script, CI wrappers) inherits SIGINT ignored; Python then leaves it ignored and so would the
    child, which would never stop on Ctrl-C. A caught signal is reset to its default on exec, so
    catching it here for the moment of the spawn gives the child Python's usual KeyboardInterrupt.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if not ignored or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Child:
    process: subprocess.Popen[str]
    #: What it printed up to and including the line the block waited for (newlines kept).
    banner: list[str] = field(default_factory=list)
    #: What it printed after Ctrl-C, once the block has ended.
    rest: str = ""


@contextmanager
def python_child(args: list[str], cwd: Path, ready: str) -> Iterator[Child]:
    """``python *args`` run in ``cwd``, its output read up to the first line containing ``ready``.

    On leaving the block it gets Ctrl-C and is waited for; one that does not stop fails the test.
    A child that hangs before ``ready`` is killed, so the read ends and the test fails.
    """
    with ctrl_c_reaches_children():
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    watchdog = threading.Timer(PATIENCE_SECONDS, process.kill)
    watchdog.daemon = True
    watchdog.start()
    child = Child(process)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            child.banner.append(line)
            if ready in line:
                break
        yield child
    finally:
        process.send_signal(signal.SIGINT)
        try:
            child.rest, _ = process.communicate(timeout=PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
            raise AssertionError("the sandbox did not stop on Ctrl-C:\n" + "".join(child.banner) + rest) from None
        finally:
            watchdog.cancel()


def sandbox_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """From now on, record every ``time.sleep`` the sandbox's own code makes (it still sleeps):
    the delay it adds is asserted as configured, not measured on the wall clock."""
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if sys._getframe(1).f_globals.get("__name__", "").startswith("connector.sandbox."):
            slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return slept
