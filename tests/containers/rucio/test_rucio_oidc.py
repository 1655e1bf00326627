"""Sessions that bring the user's own token (RUCIO_AUTH_TYPE=oidc, no secret in the profile):
the real Rucio server and storages accept the site's identity provider's tokens, the CLI, the
Python API and the JupyterLab extension work from the session's token file, and go on working
after the first access token expired and the file got a renewed one (as skahub_token_file and
the hub do; tests/publish/test_hub_oidc.py runs that chain). Tokens the site does not trust
(expired, another issuer, another audience, a forged signature) are refused by both."""

from __future__ import annotations

import re
import ssl
import time
import urllib.error
import urllib.request

import pytest

from hubimages.services.rucio.site import RucioSite
from tests.containers.conftest import DATA_MOUNT
from tests.containers.rucio.conftest import TOKEN_SECONDS
from tests.containers.rucio.lab import HOME, checksums, put_token, start_oidc_lab
from tests.idp_login import Login, claims

FITS = "B1_1000h_0.05tr.fits"
BEAM = "PrimaryBeam_B1.fits"


def status(site: RucioSite, url: str, headers: dict[str, str], method: str = "GET") -> int:
    """The HTTP status of a request from the host, trusting the site CA only."""
    context = ssl.create_default_context(cafile=str(site.ca_cert))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    request = urllib.request.Request(url, headers=headers, method=method)  # noqa: S310
    try:
        with opener.open(request, timeout=20) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def rucio_accepts(site: RucioSite, token: str) -> bool:
    """Whether the server takes the token for a request (its /auth/validate answers 500, not
    401, to a token it refuses: an upstream quirk; the API's answer is what counts)."""
    answer = status(site, f"{site.url}/accounts/whoami", {"X-Rucio-Auth-Token": token})
    assert answer in (200, 401), answer
    return answer == 200


def storage_accepts(site: RucioSite, token: str) -> bool:
    answer = status(site, site.rses[0].url, {"Authorization": f"Bearer {token}"}, "HEAD")
    assert answer in (200, 401, 403), answer
    return answer == 200


def wait_until_expired(token: str) -> None:
    expires = claims(token)["exp"]
    assert expires - time.time() <= TOKEN_SECONDS + 5
    while time.time() <= expires + 1:
        time.sleep(0.5)


def test_a_token_session_works_past_the_first_tokens_lifetime(
    containers, rucio_site, login, sdc1_data
):
    lab = start_oidc_lab(containers, rucio_site, sdc1_data, rucio_site.account)
    first_tokens = login.tokens("scientist")  # once the session runs: its lifetime is short
    first = first_tokens["access_token"]
    assert claims(first)["aud"] == rucio_site.oidc_audience
    put_token(lab.container, first)
    env = lab.environment()
    assert env["RUCIO_AUTH_TYPE"] == "oidc" and "X509_USER_PROXY" not in env
    assert not any(first in value for value in env.values())  # the token is in a file only
    out = lab.output("rucio whoami")
    assert re.search(rf"^account\s*:\s*{rucio_site.account}$", out, re.MULTILINE), out

    # CLI, with the token at the server and, as a bearer token, at the storage.
    name, did = f"oidc-{FITS}", f"{rucio_site.scope}:oidc-{FITS}"
    out = lab.output(
        f"rucio upload --rse {rucio_site.rses[0].name} --scope {rucio_site.scope} "
        f"--lfn {name} {DATA_MOUNT}/{FITS}"
    )
    assert "Successfully uploaded file" in out, out
    assert [p.read_bytes() for p in rucio_site.rses[0].folder.rglob(name)] == [
        (sdc1_data / FITS).read_bytes()
    ]

    wait_until_expired(first)
    assert not rucio_accepts(rucio_site, first) and not storage_accepts(rucio_site, first)
    refresh_token = first_tokens["refresh_token"]

    def renew() -> None:
        """A token with its lifetime ahead, as the session's token file holds (the test's
        tokens are short: each step gets one, as skahub_token_file keeps it)."""
        nonlocal refresh_token
        answer = login.refresh(refresh_token)
        refresh_token = answer.get("refresh_token", refresh_token)
        put_token(lab.container, answer["access_token"])

    # After expiry: the CLI, the Python API and the extension all read the renewed token.
    renew()
    out = lab.output(f"rucio download --dir cli-after {did}")
    assert "successfully downloaded" in out, out
    assert (
        lab.read(f"{HOME}/cli-after/{rucio_site.scope}/{name}") == (sdc1_data / FITS).read_bytes()
    )
    renew()
    api = lab.output(
        "python - <<'EOF'\n"
        "from rucio.client import Client\n"
        "from rucio.client.uploadclient import UploadClient\n"
        f"UploadClient(Client()).upload([{{'path': '{DATA_MOUNT}/{BEAM}', "
        f"'rse': '{rucio_site.rses[0].name}', 'did_scope': '{rucio_site.scope}', "
        f"'did_name': 'oidc-api-{BEAM}'}}])\n"
        f"meta = Client().get_metadata('{rucio_site.scope}', 'oidc-api-{BEAM}')\n"
        "print('meta', meta['bytes'], meta['adler32'], meta['md5'])\n"
        "EOF"
    )
    want = checksums((sdc1_data / BEAM).read_bytes())
    assert f"meta {want['bytes']} {want['adler32']} {want['md5']}" in api, api
    renew()
    instances = lab.api_ok("GET", "instances")  # what the panel asks first
    assert isinstance(instances, dict) and instances["auth_type"] == "oidc", instances
    answer = lab.api_ok("GET", "did", did=did)
    assert isinstance(answer, list) and len(answer) == 1, answer
    assert answer[0]["status"] in ("NOT_AVAILABLE", "AVAILABLE"), answer
    lab.api_ok("POST", "did/make-available", {"did": did})
    assert lab.file_status(did, {"OK", "FAILED"})["status"] == "OK"


@pytest.mark.parametrize("kind", ["another issuer", "another audience", "forged signature"])
def test_tokens_the_site_does_not_trust_are_refused(kind, rucio_site, login, foreign_idp):
    trusted = login.tokens("scientist")["access_token"]
    assert rucio_accepts(rucio_site, trusted) and storage_accepts(rucio_site, trusted)
    if kind == "another issuer":  # a real provider, a user of the same name
        token = Login(foreign_idp).tokens("scientist")["access_token"]
    elif kind == "another audience":  # an ID token: signed by the site, for its client
        token = login.tokens("scientist")["id_token"]
        assert claims(token)["aud"] != rucio_site.oidc_audience
    else:
        head, payload, signature = trusted.split(".")
        token = f"{head}.{payload}.{signature[::-1]}"
    assert not rucio_accepts(rucio_site, token)
    assert not storage_accepts(rucio_site, token)
