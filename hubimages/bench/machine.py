"""What a benchmark ran on: the machine, its load, the engine, the commit. Numbers mean little
without it (the same build takes twice as long at load 4 on 2 cores)."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.clock import utc_timestamp
from hubimages.core.git import revision


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    system: str
    engine: str
    load: float  # 1-minute load average when the benchmark started
    revision: str  # the commit measured
    date: str  # UTC, when the benchmark started


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    text = cpuinfo.read_text() if cpuinfo.is_file() else ""
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return " ".join(found.group(1).split()) if found else platform.processor() or "unknown CPU"


def _memory_gib(meminfo: Path = Path("/proc/meminfo")) -> float:
    text = meminfo.read_text() if meminfo.is_file() else ""
    found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return round(int(found.group(1)) / 2**20, 1) if found else 0.0


def _system(os_release: Path = Path("/etc/os-release")) -> str:
    text = os_release.read_text() if os_release.is_file() else ""
    found = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', text, re.MULTILINE)
    return found.group(1) if found else platform.system()


def this_machine(engine_version: str, project_root: Path) -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=_memory_gib(),
        system=_system(),
        engine=f"Docker {engine_version}",
        load=round(os.getloadavg()[0], 1),
        revision=revision(project_root).short,
        date=utc_timestamp(),
    )
