"""`invoke rucio-site`: a real Rucio deployment on this host to point images at (and stop again)."""

from __future__ import annotations

import json
import shlex

from hubimages.builder.engine import connect
from hubimages.cli.idp import local_idp
from hubimages.core.cache import slug
from hubimages.errors import HubImagesError
from hubimages.model.lineage import descendants
from hubimages.model.project import Project, open_project
from hubimages.model.spec import Matrix
from hubimages.services.rucio.deployment import (
    NETWORK_PREFIX,
    LocalRucio,
    service_files,
)
from hubimages.services.rucio.server import run_transfers
from hubimages.services.rucio.site import RucioSite

STACK = "rucio"
LAB_PORT = 8888


AUTH_TYPES = ("userpass", "oidc")


def local_rucio(project: Project, auth: str = "userpass") -> LocalRucio:
    """The deployment of this namespace (two checkouts on one engine keep theirs apart); with
    auth "oidc", trusting the running identity provider of `invoke idp`."""
    settings = project.matrix.settings
    if auth not in AUTH_TYPES:
        raise HubImagesError(f"--auth {auth}: not one of {', '.join(AUTH_TYPES)}")
    idp = local_idp(project).running_site() if auth == "oidc" else None
    if auth == "oidc" and idp is None:
        raise HubImagesError("--auth oidc: no identity provider is running; start it: invoke idp")
    return LocalRucio(
        service_files(project.root),
        project.cache,
        slug(settings.namespace),
        settings.index_url,
        connect(),
        detached=True,
        idp=idp,
    )


def rucio(stop: bool, transfers: bool, auth: str = "userpass") -> None:
    project = open_project()
    local = local_rucio(project, "userpass" if stop or transfers else auth)
    if stop:
        was = local.running_site()
        kept = local.stop()
        print(
            f"stopped the local Rucio {local.name}"
            if was
            else f"no local Rucio {local.name} was answering; its leftovers (if any) are removed"
        )
        if kept:
            print(
                f"its network {NETWORK_PREFIX}{local.name} and client files stay for the "
                f"sessions on it ({', '.join(kept)}); the next `invoke rucio-site` reuses them"
            )
        return
    site = local.running_site()
    if transfers:
        if site is None:
            raise HubImagesError(
                f"no local Rucio {local.name} is running: start it with invoke rucio-site"
            )
        for copy in run_transfers(site, service_files(project.root)):
            print(json.dumps(copy))
        return
    if site is not None:
        print(f"the local Rucio {local.name} is already running")
    else:
        local.stop()  # the leftovers of one whose server no longer answers (a reboot)
        site = local.start()
        print(
            f"local Rucio {local.name} started in {site.started_in:.1f} s"
            + (f", accepting the tokens of {site.oidc_issuer}" if site.oidc_issuer else "")
        )
    print(hint(project.matrix, site))


def hint(loaded: Matrix, site: RucioSite) -> str:
    images = [loaded.local_ref(n) for n in [STACK, *descendants(loaded, STACK)]]
    rses = ", ".join(f"{r.name} {r.url}" for r in site.rses)
    session = f"rucio-session-{site.name}"
    return "\n".join(
        [
            f"  server  {site.url} (REST and auth; certificate {site.ca_cert})",
            f"  storage {rses} (WebDAV over HTTPS)",
            f"  network {site.network}; accounts "
            + ", ".join(f"{a.name} (scope {a.scope})" for a in site.accounts)
            + f"; each one's password and X.509 certificate: {site.client_files}/accounts/"
            "<account>/ (mode 600, mounted read-only into its sessions)",
            "a session pointed at it, configured only by RUCIO_* variables as a spawner profile "
            f"would ({' or '.join(images)}):",
            "  " + shlex.join(site.docker_run_args(images[-1], session, LAB_PORT)),
            f"  its lab: http://127.0.0.1:{LAB_PORT}/lab?token=... (printed at its start); "
            f"the Rucio panel is logged in as {site.account}",
            "  the CLI in a terminal of the lab, or: " + shlex.join(site.docker_exec_args(session)),
            f"admin (root) on the host: RUCIO_CONFIG={site.root_config} {site.venv}/bin/rucio ...",
            f"rules to {site.rses[1].name} stay REPLICATING until: invoke rucio-site --transfers "
            "(the test transfer agent: a WebDAV copy, not FTS)",
            "stop: invoke rucio-site --stop (sessions on its network keep running)",
        ]
    )
