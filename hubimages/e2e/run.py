"""The whole end-to-end run: release to a registry of its own, a real hub, a browser session.

Everything it starts (registry, hub, proxy, user servers, browser) is stopped when it ends,
also when a step fails or on Ctrl-C.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from hubimages.build.run import BuildRun
from hubimages.core.data import sdc1_data
from hubimages.e2e.browser import Console, open_browser
from hubimages.e2e.scientist import choose_profile, lab_ready, log_in, run_notebook, stop_server
from hubimages.e2e.session import Session, StepError, StepResult
from hubimages.publish.profiles import DOCKERSPAWNER_FILE, description_of
from hubimages.publish.records import Release
from hubimages.publish.release import Publisher, release_images
from hubimages.publish.target import RegistryTarget
from hubimages.services.hub import CONTAINER_LABEL, LocalHub, free_port
from hubimages.services.localregistry import LocalRegistry

log = logging.getLogger(__name__)

USER = "scientist"
NETWORK = "hubimages-e2e"
EXAMPLE = "sdc1-example.ipynb"  # copied into the home by images/sdc1's start hook


@dataclass
class E2EReport:
    release: str = ""
    steps: list[StepResult] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def run_e2e(run: BuildRun, proxy_source: Path, profile: str = "sdc1") -> E2EReport:
    report = E2EReport()
    folder = run.cache.e2e
    registry = LocalRegistry(folder / "registry", port=free_port())
    registry.start()
    try:
        target = RegistryTarget(registry.host, "e2e")
        publisher = Publisher(run.matrix, run.cache, target, allow_dirty=True)
        release = release_images(run, publisher, [])
        report.release = release.tag
        hub = LocalHub(folder / "hub", proxy_source,
                       publisher.store.profiles / DOCKERSPAWNER_FILE, port=free_port(),
                       data=sdc1_data(run.matrix.root), network=NETWORK)
        hub.start()
        try:
            _session(run, hub, release, profile, folder / "screenshots", report)
        except StepError as failure:
            failure.server_log = _server_log(USER)
            raise
        finally:
            hub.stop()
    finally:
        registry.stop()
    return report


def _session(run: BuildRun, hub: LocalHub, release: Release, profile: str, shots: Path,
             report: E2EReport) -> None:
    offered = {run.matrix.images[i.name].display_name: description_of(run.matrix, i)
               for i in release.images}
    console = Console()
    with open_browser(console) as page:
        session = Session(page, console, shots)
        report.steps = session.steps
        started = time.monotonic()
        log_in(session, hub.url, USER, hub.password)
        choose_profile(session, hub.url, offered, run.matrix.images[profile].display_name)
        lab_ready(session)
        log.info("login to lab ready: %.1fs", time.monotonic() - started)
        if console.errors:
            raise StepError("lab", f"the browser console has errors: {console.errors[:3]}",
                            console.tail(), session.steps[-1].screenshot)
        report.outputs = run_notebook(session, f"{hub.url}/user/{USER}", EXAMPLE)
        if not any("SDC1 score" in text for text in report.outputs):
            raise StepError("run-all", "the notebook printed no SDC1 score", console.tail(),
                            session.steps[-1].screenshot)
        stop_server(session, hub.url)


def _server_log(user: str, lines: int = 20) -> list[str]:
    """The user server's last lines (its container is removed when the hub stops)."""
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": CONTAINER_LABEL}):
        if user in (container.name or ""):
            try:
                text = container.logs(tail=lines).decode(errors="replace")
            except docker.errors.APIError:
                return []
            return text.splitlines()
    return []
