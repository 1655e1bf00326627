"""Faults a session meets on a data lake, against the real deployment: a wrong password, the
Rucio server down (before a session starts and in the middle of one), the storage going away
while a file is downloaded. Each test puts the deployment back as it found it; the session's
notebook server must stay up throughout."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hubimages.core.waiting import wait_until
from hubimages.services.rucio.deployment import LocalRucio
from hubimages.services.rucio.host import answers
from tests.containers.conftest import DATA_MOUNT
from tests.containers.rucio.lab import HOME, Lab

FITS = "B1_1000h_0.05tr.fits"
WRONG = "not-the-password"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    assert wait_until(check, timeout, interval=0.2), f"no {what} within {timeout} s"


def test_wrong_password_gives_one_clear_line_and_a_clear_payload(lab_factory, rucio_site):
    lab = lab_factory(RUCIO_PASSWORD=WRONG)
    code, out = lab.sh("rucio whoami")
    assert code != 0
    # One error record and nothing else (no traceback, no retries); the client's message
    # carries its details on a second line: "<time> ERROR Cannot authenticate.\nDetails: ...".
    lines = [line for line in ANSI_COLOUR.sub("", out).splitlines() if line.strip()]
    assert len(lines) == 2, out
    assert lines[0].split("\t")[1:] == ["ERROR", "Cannot authenticate."], out
    assert lines[1] == (
        "Details: CannotAuthenticate: Cannot authenticate to account "
        f"{rucio_site.account} with given credentials"
    ), out

    response = lab.log_in(WRONG)  # the extension's login form, with the wrong password
    assert response.status == 401
    payload = response.json()
    assert payload["success"] is False
    assert f"Cannot authenticate to account {rucio_site.account}" in payload["error"]

    assert lab.server_up()  # the notebook server
    assert answers(f"{rucio_site.url}/ping", rucio_site.ca_cert)  # the Rucio server
    assert lab.log_in(rucio_site.password).json() == {"success": True}
    assert rucio_site.scope in lab.api_ok("GET", "list-scopes")["scopes"]


def test_rucio_server_down_before_and_during_a_session(lab, lab_factory, local_rucio, rucio_site):
    assert rucio_site.scope in lab.api_ok("GET", "list-scopes")["scopes"]
    local_rucio.stop_server()
    try:
        response = lab.api("GET", "list-scopes")  # mid-session
        assert response.status == 503, response.body  # Service Unavailable
        assert response.json()["success"] is False
        assert "Connection refused" in response.json()["error"]
        out = lab.output("rucio whoami")
        assert "Cannot connect to the Rucio server" in out, out

        late = lab_factory()  # a session that starts while the server is down
        assert late.server_up()
        assert late.api_ok("GET", "instances")["active_instance"] == rucio_site.name
        response = late.log_in(rucio_site.password)  # upstream answers a login with 401
        assert response.status == 401, response.body
        assert response.json()["error"].startswith(
            "Rucio API request failed at the transport layer: ConnectionError"
        ), response.body
        assert "Connection refused" in response.json()["error"]
    finally:
        local_rucio.start_server()
    assert lab.server_up() and late.server_up()
    assert rucio_site.scope in lab.api_ok("GET", "list-scopes")["scopes"]
    assert late.log_in(rucio_site.password).json() == {"success": True}
    assert rucio_site.scope in late.api_ok("GET", "list-scopes")["scopes"]


@contextmanager
def download_cut_short(
    local_rucio: LocalRucio, lab: Lab, part: str, command: Callable[[], object]
) -> Iterator[None]:
    """Serve downloads slowly, run `command` in the session, stop the storage once `part`
    (the file being written) appears; the storage stays down for the block (the client's
    retries meet it down too, however loaded the machine), then comes back at full speed."""
    local_rucio.stop_storage()
    local_rucio.start_storage(throttled=True)
    try:
        command()
        wait_for(lambda: lab.exists(part), 60, f"{part} (a download under way)")
        local_rucio.stop_storage()
        yield
    finally:
        local_rucio.stop_storage()
        local_rucio.start_storage()


def test_storage_down_during_a_cli_download(lab, local_rucio, rucio_site, sdc1_data):
    did = lab.upload(rucio_site, f"{DATA_MOUNT}/{FITS}", f"cut-cli-{FITS}")
    target = f"{HOME}/cut-cli/{did.replace(':', '/')}"
    download = f"rucio download --dir cut-cli {did}"
    with download_cut_short(
        local_rucio,
        lab,
        f"{target}.part",
        lambda: lab.start_sh(f"{download} > cut-cli.log 2>&1; echo finished >> cut-cli.log"),
    ):
        wait_for(lambda: "finished" in lab.output("tail -n1 cut-cli.log"), 120, "its end")
    out = lab.output("cat cut-cli.log")
    assert "Download attempt failed" in out, out
    assert f"Failed to download file {did}" in out, out
    assert "None of the requested files have been downloaded" in out, out
    assert not lab.exists(target) and not lab.exists(f"{target}.part")
    # The storage is back: the same command now fetches the whole file.
    out = lab.output(download)
    assert "successfully downloaded" in out, out
    assert lab.read(target) == (sdc1_data / FITS).read_bytes()


def test_storage_down_during_an_extension_download(lab, local_rucio, rucio_site):
    did = lab.upload(rucio_site, f"{DATA_MOUNT}/{FITS}", f"cut-ext-{FITS}")
    downloads = f"{HOME}/rucio/{rucio_site.name}/downloads"
    in_progress = f"{downloads}/*/{did.replace(':', '/')}.part"
    with download_cut_short(
        local_rucio,
        lab,
        in_progress,
        lambda: lab.api_ok("POST", "did/make-available", {"did": did}),
    ):
        status = lab.file_status(did, {"FAILED", "OK", "STUCK"})
    assert status["status"] == "FAILED", status
    assert "None of the requested files have been downloaded" in str(status["error"])
    assert lab.sh(f"ls {downloads}/*/{did.replace(':', '/')}*")[0] != 0  # nothing left
    assert lab.server_up()
