"""Test sessions side by side (verify.session.run_lanes): the lanes really overlap, the
longest job starts first, each job's output is shown once it ends, and Ctrl-C starts nothing."""

from __future__ import annotations

import threading
from pathlib import Path

from hubimages.verify.session import Job, run_lanes

WAIT = 10  # seconds a lane waits for the other before the test fails


def job(
    name: str, weight: int, folder: Path, started: list[str], meet: threading.Barrier | None = None
) -> Job:
    output = folder / f"{name}.log"

    def run(sinks: tuple[Path, ...] | tuple[None, ...]) -> None:
        started.append(name)
        if meet is not None:
            meet.wait(timeout=WAIT)  # BrokenBarrierError unless the other lane is running too
        if sinks[0] is not None:
            sinks[0].write_text(f"{name} printed this\n")

    return Job(name, (output,), weight, run)


def test_two_lanes_overlap_longest_first_and_show_each_output(tmp_path: Path) -> None:
    started: list[str] = []
    shown: list[tuple[str, str]] = []
    meet = threading.Barrier(2)
    work = [
        job("short", 1, tmp_path, started),
        job("long", 9, tmp_path, started, meet),
        job("middle", 5, tmp_path, started, meet),
    ]
    run_lanes(work, 2, threading.Event(), lambda name, path: shown.append((name, path.read_text())))
    assert started[:2] in (["long", "middle"], ["middle", "long"])
    assert started[2] == "short"
    assert sorted(shown) == [(n, f"{n} printed this\n") for n in ("long", "middle", "short")]


def test_one_lane_prints_to_our_output_in_order(tmp_path: Path) -> None:
    started: list[str] = []
    shown: list[str] = []
    work = [job("a", 1, tmp_path, started), job("b", 2, tmp_path, started)]
    run_lanes(work, 1, threading.Event(), lambda name, path: shown.append(name))
    assert started == ["b", "a"]
    assert shown == []  # nothing was written aside: it went to the terminal as it ran
    assert not list(tmp_path.iterdir())


def test_once_cancelled_no_job_starts(tmp_path: Path) -> None:
    started: list[str] = []
    cancel = threading.Event()
    cancel.set()
    run_lanes([job("a", 1, tmp_path, started), job("b", 2, tmp_path, started)], 2, cancel, None)
    assert started == []
