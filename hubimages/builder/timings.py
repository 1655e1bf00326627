"""The last real build time of each image, kept for `invoke bench`."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hubimages.builder.run import BuildResult, BuildStatus
from hubimages.core.clock import utc_timestamp
from hubimages.core.files import write_json


def record_build_times(path: Path, results: Iterable[BuildResult], jobs: int) -> None:
    built = [r for r in results if r.status is BuildStatus.BUILT]
    if not built:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(f".{path.name}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # concurrent `invoke build`s keep each other's times
        times = read_build_times(path)
        for result in built:
            times[result.name] = {
                "seconds": round(result.seconds, 1),
                "jobs": jobs,
                "finished": utc_timestamp(),
            }
        write_json(path, times)


def read_build_times(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    return data
