"""Run a workflow headless in a real container of the image under test (docs/workflows.md).

The container starts through the image's own entrypoint (start.sh and its hooks, as a session
does) as its notebook user, offline (no network at all), with the workflow's repository in the
home at ~/<workflow> (its working directory, as a launch link puts it), its data folders
read-only where it declared them, and notebook_runner.py executing the notebooks with the
image's nbclient. The executed notebooks (outputs kept) and the record stay in the cache; the
container is removed whatever happens, and one that outlives the workflow's timeout is killed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import docker.errors
import requests.exceptions
from docker import DockerClient

from hubimages.core.cache import CacheLayout
from hubimages.core.clock import utc_timestamp
from hubimages.core.files import file_sha256, folder_files
from hubimages.model.spec import Matrix
from hubimages.model.workflow_spec import WorkflowSpec
from hubimages.verify.workflow_results import (
    NotebookResult,
    WorkflowRecord,
    failure_line,
    run_key,
    save_workflow_record,
)
from hubimages.verify.workflow_source import WorkflowSource, export

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("notebook_runner.py")  # runs in the image, not imported here
RESULT = "result.json"
LABEL = "hubimages.workflow-run"
HOME = "/home/jovyan"  # NB_USER's home in every image (images/base)
NB_UID, NB_GID = 1000, 100
OUTPUT = "/tmp/workflow-run"
RUNNER_AT = "/opt/hubimages-workflow/notebook_runner.py"
GRACE = 60  # seconds past the workflow's timeout before the container is killed


def run_inputs(matrix: Matrix, spec: WorkflowSpec, source: WorkflowSource) -> str:
    """sha256 of everything a run depends on besides the image: declaration, files, data,
    runner. The same inputs at the same image id need not run again."""
    declared = {k: v for k, v in asdict(spec).items() if k not in ("display_name", "description")}
    digest = hashlib.sha256(json.dumps(declared, sort_keys=True, default=str).encode())
    digest.update(f"tree {source.tree}\nrunner {file_sha256(RUNNER)}\n".encode())
    for folder in spec.folders:
        root = matrix.root / folder.files
        for path in folder_files(root):
            digest.update(f"{folder.at}/{path.relative_to(root)}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def run_workflow(
    client: DockerClient,
    matrix: Matrix,
    cache: CacheLayout,
    spec: WorkflowSpec,
    source: WorkflowSource,
    image_id: str,
) -> WorkflowRecord:
    folder = cache.workflow_runs / spec.name / run_key(image_id)
    shutil.rmtree(folder, ignore_errors=True)
    home, output = folder / "home" / spec.name, folder / "executed"
    home.mkdir(parents=True)
    output.mkdir(parents=True)
    export(source, home)
    _own(folder)
    log.info(
        "[%s %s] workflow %s: %s",
        spec.environment,
        spec.variant,
        spec.name,
        " ".join(spec.notebooks),
    )
    started = time.monotonic()
    problem = _run_container(client, matrix, spec, image_id, home, output)
    notebooks = _results(output)
    failure = problem or failure_line(notebooks)
    if not problem and len(notebooks) != len(spec.notebooks) and not failure:
        failure = "the runner reported fewer notebooks than the workflow lists"
    record = WorkflowRecord(
        workflow=spec.name,
        environment=spec.environment,
        variant=spec.variant,
        image_id=image_id,
        inputs=run_inputs(matrix, spec, source),
        commit=source.commit,
        passed=not failure,
        seconds=round(time.monotonic() - started, 1),
        failure=failure,
        notebooks=tuple(notebooks),
        uses=_uses(output),
        executed=str(output.relative_to(cache.workflow_runs)),
        finished=utc_timestamp(),
    )
    shutil.rmtree(folder / "home", ignore_errors=True)  # the executed copies are what is kept
    save_workflow_record(cache.workflow_runs, record)
    return record


def _own(folder: Path) -> None:
    """The notebook user writes in its home and the output, as in a session."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, NB_UID, NB_GID)


def _run_container(
    client: DockerClient,
    matrix: Matrix,
    spec: WorkflowSpec,
    image_id: str,
    home: Path,
    output: Path,
) -> str:
    """Run the notebooks; "" when the runner finished, else why it did not."""
    volumes = {
        str(home): {"bind": f"{HOME}/{spec.name}", "mode": "rw"},
        str(output): {"bind": OUTPUT, "mode": "rw"},
        str(RUNNER): {"bind": RUNNER_AT, "mode": "ro"},
        **{
            str((matrix.root / f.files).resolve()): {"bind": f.at, "mode": "ro"}
            for f in spec.folders
        },
    }
    command = ["python", RUNNER_AT, "--output", OUTPUT, "--result", f"{OUTPUT}/{RESULT}"]
    command += ["--timeout", str(spec.timeout)]
    container = client.containers.run(
        image_id,
        [*command, *spec.notebooks],
        detach=True,
        user=f"{NB_UID}:{NB_GID}",
        working_dir=f"{HOME}/{spec.name}",
        network_mode="none",
        volumes=volumes,
        environment={"WORKFLOW_DIDS": " ".join(spec.dids)} if spec.dids else {},
        labels={LABEL: spec.name},
    )
    try:
        try:
            status = int(container.wait(timeout=spec.timeout + GRACE)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            container.kill()
            return f"timed out: still running {spec.timeout + GRACE} s after it started"
        if status != 0 or not (output / RESULT).is_file():
            tail = container.logs(tail=5).decode(errors="replace").strip().splitlines()
            return f"the runner exited with {status}: {' | '.join(tail)[-400:]}"
        return ""
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def _result(output: Path) -> dict[str, object]:
    path = output / RESULT
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _results(output: Path) -> list[NotebookResult]:
    notebooks = _result(output).get("notebooks", [])
    return [NotebookResult(**n) for n in notebooks] if isinstance(notebooks, list) else []


def _uses(output: Path) -> dict[str, str]:
    uses = _result(output).get("uses", {})
    return {str(k): str(v) for k, v in uses.items()} if isinstance(uses, dict) else {}
