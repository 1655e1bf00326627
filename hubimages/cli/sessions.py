"""Commands for what a scientist sees: `invoke hub` to try a release, `invoke e2e` to test it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from invoke.exceptions import Exit

from hubimages.cli import report
from hubimages.cli.building import checked, start_runs
from hubimages.cli.common import registry_target
from hubimages.cli.idp import local_idp
from hubimages.cli.rucio import local_rucio
from hubimages.cli.workflows import hub_service
from hubimages.core.cache import slug
from hubimages.e2e.run import run_e2e
from hubimages.e2e.session import StepError, StepResult
from hubimages.errors import HubImagesError
from hubimages.model.project import Project, open_project
from hubimages.publish.profiles import DOCKERSPAWNER_FILE
from hubimages.publish.store import ReleaseStore
from hubimages.services.hub import LocalHub, proxy_source

log = logging.getLogger(__name__)
HUB_AUTH = ("shared-password", "oidc")


def hub(
    registry: str,
    port: int,
    stop: bool,
    auth: str = "",
    remove_homes: bool = False,
    catalogue: str = "public",
) -> None:
    project = open_project()
    local = LocalHub(
        project.cache.hub,
        proxy_source(project.root),
        _profiles(project, registry, stop),
        port=port,
        name=f"hubimages-hub-{slug(project.matrix.settings.namespace)}",
    )
    if stop:
        was = local.stop(remove_homes)
        print(
            ("stopped the hub, its proxy and its user servers" if was else "no hub was running")
            + ("; removed the users' homes" if remove_homes else "; users' homes are kept")
        )
        return
    if local.running():
        print(f"a hub already runs: {local.url} (stop it: invoke hub --stop)")
        return
    # The workflow catalogue and its git server run as the hub's services (docs/workflows.md);
    # sessions reach the git server through the hub's firewall.
    service = hub_service(project, registry, catalogue)
    local.extra_config += service.config()
    local.open_ports = (*local.open_ports, service.git_port)
    _wire(project, local, auth or "shared-password")
    local.start()
    print(_started(local) + f" Workflows: {local.url}/services/catalogue/ ({catalogue}).")


def _wire(project: Project, local: LocalHub, auth: str) -> None:
    """Login at `invoke idp` (--auth oidc); sessions on a running `invoke rucio-site`."""
    if auth not in HUB_AUTH:
        raise HubImagesError(f"--auth {auth}: not one of {', '.join(HUB_AUTH)}")
    if auth == "oidc":
        local.idp = local_idp(project).running_site()
        if local.idp is None:
            raise HubImagesError("--auth oidc: no identity provider runs; start it: invoke idp")
    site = local_rucio(project).running_site()
    if site is not None:  # `invoke rucio-site` runs: sessions on its network, pointed at it
        if auth == "oidc" and not site.oidc_issuer:
            raise HubImagesError(
                "--auth oidc: the local Rucio does not accept tokens; restart it: "
                "invoke rucio-site --stop && invoke rucio-site --auth oidc"
            )
        local.network, local.rucio = site.network, site


def _started(local: LocalHub) -> str:
    if local.idp is not None:
        login = (
            f"users log in at the identity provider {local.idp.issuer} "
            f"({', '.join(u.username for u in local.idp.users)}; passwords: "
            f"{local.idp.users_file})"
        )
    else:
        login = (
            f"log in with any user name and the password in {local.root / 'password'} "
            "(a shared password: anyone who has it can log in as anyone; for more than one "
            "person use --auth oidc)"
        )
    rucio = (
        f"sessions of {', '.join(a.name for a in local.rucio.accounts)} use the local Rucio "
        f"{local.rucio.name}"
        if local.rucio
        else "with `invoke rucio-site` running first, sessions use it"
    )
    return (
        f"JupyterHub on {local.url}: {login}. User servers run on the docker network "
        f"{local.user_network}; homes are kept in docker volumes {local.name}-home-<user>; "
        f"{rucio}. Stop: invoke hub --stop"
    )


def _profiles(project: Project, registry: str, stop: bool) -> Path:
    """The DockerSpawner profiles `invoke profiles` wrote for the registry released to."""
    if stop:
        return Path()  # stopping needs none
    target = registry_target(project, registry, recorded=True)
    return ReleaseStore(project.cache.publish(target.slug)).profiles / DOCKERSPAWNER_FILE


def e2e(profile: str, auth: str, variants: list[str]) -> None:
    """The session in the default variant (or the first --variant); every --variant is
    released and offered on the form."""
    if (auth or "shared-password") not in HUB_AUTH:
        raise HubImagesError(f"--auth {auth}: not one of {', '.join(HUB_AUTH)}")
    projects = checked(None, [profile], variants)
    runs = start_runs(projects)
    try:
        result = run_e2e(runs, proxy_source(projects[0].root), profile, auth or "shared-password")
    except StepError as failure:
        if failure.done:
            print(_steps_table(failure.done))
        for line in ["browser console:", *failure.console, "server log:", *failure.server_log]:
            print(f"  {line}", file=sys.stderr)
        raise Exit(f"error: {failure}", code=1) from None
    print(f"release {result.release} (a registry of its own), profile {profile}:")
    print(_steps_table(result.steps))
    print(f"total {sum(s.seconds for s in result.steps):.1f}s; notebook: {result.score or '-'}")
    if result.margins:
        margins = ", ".join(f"{m:.0f} s" for m in result.margins)
        print(f"token file renewed {len(result.margins)} times, with {margins} left")
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
