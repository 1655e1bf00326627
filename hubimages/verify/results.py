"""Which image id passed its container tests: the gate `invoke push` checks."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from hubimages.core.clock import utc_timestamp
from hubimages.core.files import write_json


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # not a pytest class

    name: str
    image_id: str
    passed: bool
    seconds: float
    finished: str = ""


def record_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.json"


def junit_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.xml"


def save_record(folder: Path, record: TestRecord) -> None:
    data = asdict(record)
    data["seconds"] = round(record.seconds, 1)
    data["finished"] = record.finished or utc_timestamp()
    write_json(record_path(folder, record.name), data)


def load_record(folder: Path, name: str) -> TestRecord | None:
    path = record_path(folder, name)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return TestRecord(name=name, image_id=data["image_id"], passed=bool(data["passed"]),
                      seconds=float(data.get("seconds", 0)), finished=data.get("finished", ""))


def passed_image_id(folder: Path, name: str) -> str | None:
    record = load_record(folder, name)
    return record.image_id if record is not None and record.passed else None
