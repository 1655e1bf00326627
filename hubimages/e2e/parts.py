"""What the e2e's sessions share: who the scientist is, the services they talk to, the report,
and fetching a file of the data lake with the Rucio panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from hubimages.e2e import rucio_panel
from hubimages.e2e.session import Session, StepResult
from hubimages.e2e.workflow_launch import LaunchReport
from hubimages.services.hub import CONTAINER_LABEL, LocalHub
from hubimages.services.idp.site import IdpSite
from hubimages.services.rucio.site import RucioSite

USER = "scientist"
HOME = "/home/jovyan"  # the user server's home (DockerSpawner keeps the image's user)


@dataclass
class E2EReport:
    release: str = ""
    steps: list[StepResult] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    score: str = ""  # the score line the example notebook printed
    margins: list[float] = field(default_factory=list)  # oidc: seconds left at each renewal
    launch: LaunchReport = field(default_factory=LaunchReport)  # a workflow's launch link


@dataclass(frozen=True)
class Services:
    """What the session talks to: the hub, the Rucio site, the package index (and the
    identity provider)."""

    hub: LocalHub
    site: RucioSite
    dids: tuple[str, str]  # the scientist's files in Rucio
    sizes: tuple[int, int]  # their bytes
    index_url: str
    idp: IdpSite | None = None
    idp_cert: Path = Path()  # its HTTPS certificate, for the browser

    @property
    def did(self) -> str:
        return self.dids[0]

    @property
    def data_size(self) -> int:
        return self.sizes[0]


def fetch_with_panel(
    session: Session, services: Services, did: str, size: int, step: str = "rucio-panel"
) -> None:
    """A file of the scientist's in the lake: listed in the Rucio panel, made available, then
    in the home (read through the server's contents API, as the file browser does). With a
    shared password the panel holds the account's password (stored at start: no form); with
    oidc it uses the session's token file."""
    site, page = services.site, session.page
    user_base = f"{services.hub.url}/user/{USER}"
    with session.step(step):
        rucio_panel.open_panel(page)
        if services.idp is None:
            rucio_panel.log_in(page, site.account, site.password)
        listed = rucio_panel.list_files(page, f"{site.scope}:*")
        assert did in listed, f"the panel lists {listed}, not {did}"
        rucio_panel.make_available(page, did)
        path = rucio_panel.download_path(HOME, site.name, did)
        relative = path.removeprefix(f"{HOME}/")
        response = page.request.get(f"{user_base}/api/contents/{relative}?content=0")
        assert response.status == 200, f"{path} is not in the home: {response.status}"
        found = response.json().get("size")
        assert found == size, f"{path} has {found} bytes, not {size}"


def server_log(hub: str, user: str, lines: int = 20) -> list[str]:
    """The user server's last lines (its container is removed when the hub stops)."""
    client = docker.from_env()
    for container in client.containers.list(
        all=True, filters={"label": f"{CONTAINER_LABEL}={hub}"}
    ):
        if user in (container.name or ""):
            try:
                text = container.logs(tail=lines).decode(errors="replace")
            except docker.errors.APIError:
                return []
            return text.splitlines()
    return []
