"""Waiting for a condition with a deadline (never a bare sleep), sync and async."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import TypeVar

import pytest

T = TypeVar("T")

DEFAULT_DEADLINE = 15.0
INTERVAL = 0.05


def poll(
    probe: Callable[[], T | None], *, timeout: float = DEFAULT_DEADLINE, what: str = "condition"
) -> T:
    """Call ``probe`` until it returns something other than None/False; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} ({value!r})")
        time.sleep(INTERVAL)


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str
) -> None:
    """Poll an async condition until true or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(INTERVAL)


def within_deadline(work: Callable[[], T], seconds: float) -> T:
    """``work()``, or `TimeoutError` when it has not returned after ``seconds`` (the work is
    left running in its thread: this is for checking that something ends quickly)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def wait_for_line(proc: subprocess.Popen[str], needle: str, *, within: float = 30.0) -> str:
    """The first line of ``proc``'s stdout that contains ``needle``. Fails at the deadline, or
    when the process ends first; the reading happens in a thread, so a process that prints
    nothing cannot block the test past the deadline."""
    stream = proc.stdout
    assert stream is not None, "start the process with stdout=subprocess.PIPE"

    def scan() -> str | None:
        return next((line for line in stream if needle in line), None)

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        found = pool.submit(scan).result(timeout=within)
    except FuturesTimeout:
        raise AssertionError(f"no line with {needle!r} within {within:g}s") from None
    finally:
        pool.shutdown(wait=False)
    if found is None:
        raise AssertionError(f"the process ended (code {proc.poll()}) before printing {needle!r}")
    return found
