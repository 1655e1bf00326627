"""wait_until: bounded, polls, returns what the condition found, stops on its error."""

from __future__ import annotations

import time

import pytest

from hubimages.core.waiting import wait_until


def test_returns_the_conditions_first_truthy_value() -> None:
    answers = iter([0, "", None, "ready"])
    assert wait_until(lambda: next(answers), 5, interval=0) == "ready"


def test_gives_up_at_the_deadline_and_returns_none() -> None:
    calls = []
    started = time.monotonic()
    assert wait_until(lambda: calls.append(1), 0.3, interval=0.05) is None
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 2
    assert len(calls) >= 3  # it polled, it did not sleep the whole time


def test_asks_once_even_with_no_time_left() -> None:
    assert wait_until(lambda: 42, 0) == 42


def test_an_error_of_the_condition_stops_the_wait() -> None:
    def dead() -> bool:
        raise RuntimeError("the process exited")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited"):
        wait_until(dead, 30)
    assert time.monotonic() - started < 1
