"""`invoke idp`: the real provider (oidc-provider from npm on the host's node) as clients meet
it, and as an admin stops it after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from hubimages.model.project import CHECKOUT, open_project
from hubimages.services.firewall import chain_name
from hubimages.services.idp.provider import LocalIdp, answers
from hubimages.services.tls import SiteCA
from tests.idp_login import Login, claims
from tests.publish.helpers import NAMESPACE

pytestmark = pytest.mark.slow
NAME = f"{NAMESPACE}-idp"


@pytest.fixture
def local(client, tmp_path) -> Iterator[LocalIdp]:
    provider = LocalIdp(
        CHECKOUT / "services" / "idp",
        tmp_path / "idp",
        SiteCA(open_project().cache.site_ca),
        NAME,
        client,
        modules=open_project().cache.idp / "provider",
    )
    yield provider
    provider.stop()


def test_login_with_pkce_refresh_and_refusals(local: LocalIdp) -> None:
    site = local.start()
    assert site.started_in < 30
    assert [u.username for u in site.users] == ["alice", "bob", "scientist"]
    assert (local.folder / "users.json").stat().st_mode & 0o777 == 0o600
    login = Login(site)
    tokens = login.tokens("alice")
    access, identity = claims(tokens["access_token"]), claims(tokens["id_token"])
    assert (access["iss"], access["aud"], access["sub"]) == (
        site.issuer,
        "rucio",
        site.user("alice").sub,
    )
    assert access["exp"] - access["iat"] == site.access_token_seconds
    assert access["scope"] == "openid profile" and access["groups"] == ["ska", "sdc-team"]
    assert identity["preferred_username"] == "alice" and identity["groups"] == ["ska", "sdc-team"]
    again = login.refresh(tokens["refresh_token"])
    assert claims(again["access_token"])["sub"] == access["sub"]
    with pytest.raises(AssertionError, match="refused"):
        login.tokens("alice", password="not-her-password")  # noqa: S106 - a wrong one


def test_a_crashed_provider_is_cleared_by_the_next_start(local: LocalIdp, client) -> None:
    site = local.start()
    os.killpg(site.pid, signal.SIGKILL)  # a crash: its record, network and rule stay
    assert local.process is not None
    local.process.wait(timeout=10)
    assert not answers(site.discovery_url, site.ca_cert)
    started = time.monotonic()
    site = local.start()
    assert time.monotonic() - started < 30 and answers(site.discovery_url, site.ca_cert)
    stopping = time.monotonic()
    assert local.stop() is True
    print(f"idp start {site.started_in:.1f} s, stop {time.monotonic() - stopping:.1f} s")
    assert not answers(site.discovery_url, site.ca_cert)
    assert client.networks.list(names=[local.network]) == []
    listed = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=False)
    assert chain_name("S", local.network) not in listed.stdout
    assert local.stop() is False  # nothing left to stop, and it says so
