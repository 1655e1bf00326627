"""Numbers of the workflows and the catalogue (docs/workflows.md), against their goals:

- what the headless runs add to a release of every image in every variant (goal: 3 minutes):
  every workflow run again on its environment's current image in its variant, one after the
  other as a release runs them (per variant, then the sum);
- the catalogue service's answer to a package query, median of 50 over HTTP (goal: < 100 ms),
  on the newest catalogue written here (a release's full inventory);
- launch link to notebook open (goal: 15 s), as the last `invoke e2e` measured it in the
  browser (the numbers file it leaves).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hubimages.builder.run import BuildRun
from hubimages.builder.scheduler import build_images
from hubimages.core.ports import free_port
from hubimages.verify.workflow_source import prepare_sources
from hubimages.verify.workflows import WorkflowContext, prove_workflows

log = logging.getLogger(__name__)

QUERIES = 50
PREFIX = "/services/catalogue/"
LAUNCH_NUMBERS = "launch.json"  # written by `invoke e2e` in its folder
RUNS_KEY = "workflow_runs_s"  # one variant's workflows, all of them


def workflow_timings(run: BuildRun) -> dict[str, object]:
    """The workflows of the run's variant, each run again: its seconds, and all of them."""
    matrix = run.matrix
    environments = list(dict.fromkeys(w.environment for w in matrix.variant_workflows.values()))
    if not environments:
        return {}
    context = WorkflowContext(run.client, matrix, run.cache, prepare_sources(matrix, run.cache))
    ids = {r.name: r.image_id or "" for r in build_images(run, environments)}
    numbers: dict[str, object] = {}
    started = time.monotonic()
    for environment in environments:
        log.info("workflows of %s, run again", environment)
        for record in prove_workflows(context, environment, ids[environment], retest=True):
            numbers[f"workflow_{record.workflow}_s"] = (
                record.seconds if record.passed else f"FAILED: {record.failure}"
            )
    numbers[RUNS_KEY] = round(time.monotonic() - started, 1)
    return numbers


def release_workflow_seconds(numbers: dict[str, object]) -> dict[str, object]:
    """What the runs add to a release of every variant: each variant's runs (keys prefixed
    with the variant's name), one after the other."""
    each = [v for k, v in numbers.items() if k.endswith(f".{RUNS_KEY}")]
    if not each:
        return {}
    seconds = [v for v in each if isinstance(v, int | float)]
    return {"workflows_added_to_release_s": round(sum(seconds), 1)}


def newest_catalogue(publish_root: Path) -> Path | None:
    found = sorted(publish_root.glob("*/catalogue/catalogue.json"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def catalogue_query_timings(publish_root: Path) -> dict[str, object]:
    document = newest_catalogue(publish_root)
    if document is None:
        return {"catalogue_query_ms_median": "no catalogue here: run `invoke release` first"}
    query = _query(json.loads(document.read_text()))
    port = free_port()
    env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": PREFIX}
    command = [
        sys.executable,
        "-m",
        "hubimages.services.catalogue.app",
        "--document",
        str(document),
        "--port",
        str(port),
        "--git-url",
        "http://127.0.0.1:9",
    ]
    url = f"http://127.0.0.1:{port}{PREFIX}api/environments?{query}"
    with subprocess.Popen(command, env=env) as service:
        try:
            _wait(url, service)
            times = [_timed(url) for _ in range(QUERIES)]
        finally:
            service.terminate()
    return {
        "catalogue_query": query,
        "catalogue_query_ms_median": round(statistics.median(times) * 1000, 1),
        "catalogue_query_ms_max": round(max(times) * 1000, 1),
    }


def _query(document: dict[str, object]) -> str:
    """A package every environment has, at a version range: the whole inventory is searched."""
    environments = document.get("environments")
    assert isinstance(environments, list) and environments
    packages: dict[str, str] = environments[-1]["python_packages"]
    name = "jupyterlab" if "jupyterlab" in packages else next(iter(packages))
    return f"package={name}%3E%3D0"


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _timed(url: str) -> float:
    started = time.monotonic()
    with _opener().open(url, timeout=10) as response:
        response.read()
    return time.monotonic() - started


def _wait(url: str, service: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and service.poll() is None:
        try:
            _timed(url)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the catalogue service did not answer {url} within {timeout:.0f} s")


def launch_timings(e2e_folder: Path) -> dict[str, object]:
    path = e2e_folder / LAUNCH_NUMBERS
    if not path.is_file():
        return {"launch_to_notebook_s": "not measured here: run `invoke e2e`"}
    numbers: dict[str, object] = json.loads(path.read_text())
    return numbers
