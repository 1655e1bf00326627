"""Commands for what a scientist sees: `invoke hub` to try a release, `invoke e2e` to test it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from invoke.exceptions import Exit

from hubimages.cli import report
from hubimages.cli.building import start_run
from hubimages.cli.common import registry_target
from hubimages.cli.rucio import local_rucio
from hubimages.cli.workflows import data_volumes, hub_service
from hubimages.core.cache import slug
from hubimages.e2e.run import run_e2e
from hubimages.e2e.session import StepError, StepResult
from hubimages.model.project import Project, open_project
from hubimages.publish.profiles import DOCKERSPAWNER_FILE
from hubimages.publish.store import ReleaseStore
from hubimages.services.hub import LocalHub, proxy_source

log = logging.getLogger(__name__)


def hub(registry: str, port: int, stop: bool, catalogue: str = "public") -> None:
    project = open_project()
    site = None if stop else local_rucio(project).running_site()
    local = LocalHub(
        project.cache.hub,
        proxy_source(project.root),
        _profiles(project, registry, stop),
        port=port,
        name=f"hubimages-hub-{slug(project.matrix.settings.namespace)}",
    )
    if site is not None:  # `invoke rucio-site` runs: sessions on its network, pointed at it
        local.network, local.environment = site.network, site.session_env()
        local.mounts = site.session_volumes()
    if stop:
        local.stop()
        print("stopped the hub, its proxy and its user servers")
        return
    # The workflow catalogue and its git server run as the hub's services (docs/workflows.md).
    service = hub_service(project, registry, catalogue)
    local.extra_config += service.config()
    local.mounts = {**data_volumes(project.matrix), **local.mounts}
    if local.running():
        print(f"a hub already runs: {local.url} (stop it: invoke hub --stop)")
        return
    local.start()
    print(
        f"JupyterHub on {local.url}: log in with any user name and the password "
        f"{local.password}; user servers run on the docker network {local.user_network}"
        + (
            f", pointed at the local Rucio {site.name} (its panel logs in as {site.account})"
            if site
            else "; with `invoke rucio-site` running first, they use it"
        )
        + f". Workflows: {local.url}/services/catalogue/ ({catalogue}). Stop: invoke hub --stop"
    )


def _profiles(project: Project, registry: str, stop: bool) -> Path:
    """The DockerSpawner profiles `invoke profiles` wrote for the registry released to."""
    if stop:
        return Path()  # stopping needs none
    target = registry_target(project, registry, recorded=True)
    return ReleaseStore(project.cache.publish(target.slug)).profiles / DOCKERSPAWNER_FILE


def e2e(profile: str) -> None:
    project = open_project()
    run = start_run(project)
    try:
        result = run_e2e(run, proxy_source(project.root), profile)
    except StepError as failure:
        if failure.done:
            print(_steps_table(failure.done))
        for line in ["browser console:", *failure.console, "server log:", *failure.server_log]:
            print(f"  {line}", file=sys.stderr)
        raise Exit(f"error: {failure}", code=1) from None
    print(f"release {result.release} (a registry of its own), profile {profile}:")
    print(_steps_table(result.steps))
    print(f"total {sum(s.seconds for s in result.steps):.1f}s; notebook: {result.score}")
    if not result.launch.workflow:
        print(f"no workflow runs in {profile}: the catalogue and launch steps did not run")
    else:
        print(
            f"workflow {result.launch.workflow}: launch link to notebook open "
            f"{result.launch.launch_seconds:.1f}s (login submitted to first cell shown); "
            f"catalogue query {result.launch.query_ms:.0f} ms"
        )


def _steps_table(steps: list[StepResult]) -> str:
    return report.table(
        [
            ("step", "seconds", "screenshot"),
            *(
                (
                    s.name,
                    f"{s.seconds:.1f}",
                    str(s.screenshot.relative_to(Path.cwd()))
                    if s.screenshot.is_relative_to(Path.cwd())
                    else str(s.screenshot),
                )
                for s in steps
            ),
        ]
    )
