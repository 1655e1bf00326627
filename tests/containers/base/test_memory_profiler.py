"""memory_profiler in every image: the memory of a function, line by line and as a notebook
magic, measured as jovyan with no network. base has no numpy: 200 MiB of bytes it is."""

from __future__ import annotations

import json
import re

MIB = 2**20

# Allocates and touches 200 MiB, then frees it; peak and baseline from memory_usage.
API = r"""
import json
from memory_profiler import memory_usage

def allocate():
    block = b"x" * (200 * 2**20)  # written, so the pages are resident
    return len(block)

baseline = memory_usage(-1, interval=0.05, timeout=0.2, max_usage=True)
peak, size = memory_usage((allocate, ()), interval=0.01, max_usage=True, retval=True)
print(json.dumps({"baseline": baseline, "peak": peak, "size": size}))
"""

LINE_BY_LINE = r"""
cat > /tmp/steps.py <<'PY'
@profile
def steps():
    block = b"x" * (100 * 2**20)
    more = b"y" * (50 * 2**20)
    del block
    return len(more)

steps()
PY
cd /tmp && python -m memory_profiler steps.py
"""

MAGIC = r"""
cd /tmp && ipython --quick --no-banner --colors=NoColor -c '
%load_ext memory_profiler
%memit bytearray(b"z" * (150 * 2**20))
'
"""


def test_memory_usage_of_a_function(containers) -> None:
    result = containers.run(["python", "-c", API], network_mode="none", timeout=120)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["size"] == 200 * MIB
    assert 180 < out["peak"] - out["baseline"] < 260, out  # MiB


def test_line_by_line_report(containers) -> None:
    result = containers.run(["bash", "-c", LINE_BY_LINE], network_mode="none", timeout=120)
    assert result.exit_code == 0, result.output
    increments = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s*(\d+)\s+[\d.]+ MiB\s+(-?[\d.]+) MiB\s+\d+\s+(\S.*)$", line)
        if match:
            increments[match.group(3).strip()] = float(match.group(2))
    assert 90 < increments['block = b"x" * (100 * 2**20)'] < 120, result.stdout
    assert 40 < increments['more = b"y" * (50 * 2**20)'] < 70, result.stdout
    assert increments["del block"] < -90, result.stdout


def test_memit_magic(containers) -> None:
    result = containers.run(["bash", "-c", MAGIC], network_mode="none", timeout=120)
    assert result.exit_code == 0, result.output
    match = re.search(r"peak memory: ([\d.]+) MiB, increment: ([\d.]+) MiB", result.stdout)
    assert match, result.output
    assert 140 < float(match.group(2)) < 320, result.stdout  # bytes + bytearray copy
