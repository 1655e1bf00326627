"""`invoke e2e --auth oidc`: the scientist logs in on the identity provider's own page, spawns
a profile, fetches a file with the Rucio panel (no password typed: the session's token), waits
until the first access token has expired and the session's token file was renewed at least
twice (each time at least a minute before expiry), fetches a second file, restarts the server
and finds the home as it was, and stops it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import docker
from playwright.sync_api import expect

from hubimages.builder.run import BuildRun
from hubimages.e2e.browser import Console, open_browser
from hubimages.e2e.parts import HOME, USER, E2EReport, Services, fetch_with_panel
from hubimages.e2e.rucio_panel import download_path
from hubimages.e2e.scientist import SPAWN_TIMEOUT_MS, choose_profile, lab_ready, stop_server
from hubimages.e2e.session import Session
from hubimages.errors import HubImagesError
from hubimages.publish.records import Release
from hubimages.services.hub import CONTAINER_LABEL

RENEWALS = 2  # seen before the second fetch
MIN_MARGIN = 60.0  # seconds a token must have left when the file gets its successor
# The token file as the session's user sees it: its mode, owner and lifetime, never its text;
# and whether it is in the server's environment.
PROBE = """
import json, os, base64, hashlib, skahub_token_file
path = skahub_token_file.token_path()
token = path.read_text().strip()
payload = token.split('.')[1]
claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
st = path.stat()
environ = b''.join(
    open(f'/proc/{p}/environ', 'rb').read() for p in os.listdir('/proc')
    if p.isdigit() and os.access(f'/proc/{p}/environ', os.R_OK))
print(json.dumps({'mode': oct(st.st_mode & 0o777), 'uid': st.st_uid, 'exp': claims['exp'],
                  'iat': claims['iat'],
                  'sha': hashlib.sha256(token.encode()).hexdigest(),
                  'in_environ': token.encode() in environ}))
"""


def log_in_at_provider(session: Session, hub: str, user: str, password: str) -> None:
    page = session.page
    with session.step("login"):
        page.goto(f"{hub}/hub/login")
        page.locator("a", has_text=re.compile("Sign in with")).click()  # role=button
        page.fill("#username", user)
        page.fill("#password", password)
        page.click("#login")
        page.wait_for_url(re.compile(r"/hub/(spawn|home)|/user/"))


def _probe(hub_name: str) -> dict[str, object]:
    client = docker.from_env()
    containers = client.containers.list(filters={"label": f"{CONTAINER_LABEL}={hub_name}"})
    mine = [c for c in containers if USER in (c.name or "")]
    if not mine:
        raise HubImagesError(f"no server of {USER} runs")
    result = mine[0].exec_run(["python", "-c", PROBE], user="jovyan")
    output = result.output if isinstance(result.output, bytes) else b""
    if result.exit_code != 0:
        raise HubImagesError(f"the session's token file: {output.decode()[-300:]}")
    found: dict[str, object] = json.loads(output.decode())
    env = mine[0].attrs["Config"]["Env"] or []
    found["in_inspect"] = any(str(found["sha"]) in e for e in env)
    return found


def token_renewals(session: Session, services: Services, lifetime: int) -> list[float]:
    """Wait until the first token has expired and RENEWALS renewals happened; their margins."""
    margins: list[float] = []
    with session.step("token-renewals"):
        first = _probe(services.hub.name)
        deadline = time.monotonic() + 3.5 * lifetime
        current = first
        while time.monotonic() < deadline:
            assert current["mode"] == "0o600" and current["uid"] == 1000, current
            assert not current["in_environ"] and not current["in_inspect"], "token in the env"
            if len(margins) >= RENEWALS and time.time() > float(str(first["exp"])):
                return margins
            time.sleep(2)
            latest = _probe(services.hub.name)
            if latest["sha"] != current["sha"]:  # left when its successor was issued
                margins.append(float(str(current["exp"])) - float(str(latest["iat"])))
                assert margins[-1] >= MIN_MARGIN, f"renewed {margins[-1]} s before expiry"
                current = latest
        raise HubImagesError(f"{len(margins)} renewals within {3.5 * lifetime:.0f} s: {margins}")
    return margins


def restart_keeps_home(session: Session, services: Services) -> None:
    """Stop the server, start it again: the file fetched before is still in the home."""
    page, hub = session.page, services.hub.url
    did = services.dids[0]
    relative = download_path(HOME, services.site.name, did).removeprefix(f"{HOME}/")
    with session.step("restart"):
        page.goto(f"{hub}/hub/home")
        page.click("#stop")
        expect(page.locator("#stop")).to_be_hidden(timeout=120_000)
        page.click("#start")
        page.locator("#spawn_form [type=submit]").click()
        page.wait_for_url(re.compile(r"/user/[^/]+/lab"), timeout=SPAWN_TIMEOUT_MS)
        response = page.request.get(f"{hub}/user/{USER}/api/contents/{relative}?content=0")
        assert response.status == 200, f"{relative} is gone from the home: {response.status}"


def oidc_session(
    run: BuildRun,
    services: Services,
    release: Release,
    profile: str,
    shots: Path,
    report: E2EReport,
) -> None:
    if services.idp is None:
        raise HubImagesError("the oidc session needs the identity provider")
    hub = services.hub
    console = Console()
    # The provider's certificate (the site CA signed it; Chromium knows only Debian's CAs).
    with open_browser(console, (services.idp_cert,)) as page:
        session = Session(page, console, shots)
        report.steps = session.steps
        log_in_at_provider(session, hub.url, USER, services.idp.user(USER).password)
        choose_profile(session, hub.url, run.matrix, release, profile)
        lab_ready(session)
        fetch_with_panel(session, services, services.dids[0], services.sizes[0])
        report.margins = token_renewals(session, services, services.idp.access_token_seconds)
        fetch_with_panel(
            session, services, services.dids[1], services.sizes[1], "rucio-panel-after-expiry"
        )
        restart_keeps_home(session, services)
        stop_server(session, hub.url)
