"""What a headless workflow run proved: one record per workflow and image id, beside the
notebooks it executed (outputs kept), in the cache's workflows/runs/<workflow>/.

A record counts for a release only when it passed and its inputs are the ones of now: the same
image id, the same repository files, declaration, data and runner (its `inputs` sha256).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hubimages.core.files import write_json


@dataclass(frozen=True)
class NotebookResult:
    path: str
    seconds: float
    cells: int
    error: dict[str, Any] | None = None  # cell, execution_count, ename, evalue, source


@dataclass(frozen=True)
class WorkflowRecord:
    workflow: str
    environment: str
    variant: str
    image_id: str
    inputs: str  # sha256 of what the run depended on, besides the image
    commit: str  # of the workflow's served repository
    passed: bool
    seconds: float
    failure: str = ""  # one line: notebook, cell, error
    notebooks: tuple[NotebookResult, ...] = ()
    uses: dict[str, str] = field(default_factory=dict)  # distributions imported, versions
    executed: str = ""  # folder of the executed notebooks, relative to the runs folder
    finished: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowRecord:
        notebooks = tuple(NotebookResult(**n) for n in data.get("notebooks", ()))
        fields = {k: v for k, v in data.items() if k in cls.__annotations__}
        return cls(**{**fields, "notebooks": notebooks})


def run_key(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def record_path(runs: Path, workflow: str, image_id: str) -> Path:
    return runs / workflow / f"{run_key(image_id)}.json"


def save_workflow_record(runs: Path, record: WorkflowRecord) -> None:
    write_json(record_path(runs, record.workflow, record.image_id), record.to_dict())


def load_workflow_record(runs: Path, workflow: str, image_id: str) -> WorkflowRecord | None:
    path = record_path(runs, workflow, image_id)
    if not path.is_file():
        return None
    try:
        return WorkflowRecord.from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def passed_record(runs: Path, workflow: str, image_id: str, inputs: str) -> WorkflowRecord | None:
    """The record of a passed run at exactly this image and these inputs, or None."""
    record = load_workflow_record(runs, workflow, image_id)
    if record is None or not record.passed or record.inputs != inputs:
        return None
    return record


def failure_line(notebooks: list[NotebookResult]) -> str:
    """`notebook X, cell N (source...): Ename: evalue`, of the first failing notebook."""
    for notebook in notebooks:
        if notebook.error:
            error = notebook.error
            return (
                f"notebook {notebook.path}, cell {error.get('cell')} "
                f"({error.get('source', '')!r}): {error.get('ename')}: {error.get('evalue')}"
            )
    return ""
