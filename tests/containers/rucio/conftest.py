"""Fixtures of the Rucio round trips (the rucio stack's tests, run for every image that
includes it): a real identity provider (`invoke idp`'s, with short-lived tokens) and a real
local Rucio deployment trusting it (hubimages.services.rucio: PostgreSQL, two Apache WebDAV
storages over HTTPS, the Rucio server under gunicorn, all on a docker network of its own),
started once per test session and always stopped; and lab sessions of the image under test on
that network, configured only by the RUCIO_* variables of a spawner profile and the account's
files."""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubimages.core.cache import CacheLayout
from hubimages.model.load import load_matrix
from hubimages.services.idp.provider import LocalIdp
from hubimages.services.idp.site import IdpSite
from hubimages.services.rucio.deployment import LocalRucio, service_files
from hubimages.services.rucio.site import RucioSite
from hubimages.services.tls import SiteCA
from tests.containers.rucio.lab import Lab, start_lab
from tests.idp_login import Login

REPO = Path(__file__).resolve().parents[3]


TOKEN_SECONDS = 45  # the provider's access tokens: the tests wait for one to expire


def provider(docker_client, folder: Path, name: str) -> LocalIdp:
    cache = CacheLayout.for_project(REPO)
    return LocalIdp(
        REPO / "services" / "idp",
        folder,
        SiteCA(cache.site_ca),
        name,
        docker_client,
        access_token_seconds=TOKEN_SECONDS,
        modules=cache.idp / "provider",
    )


@pytest.fixture(scope="session")
def idp(docker_client, tmp_path_factory) -> Iterator[IdpSite]:
    """The site's identity provider, its users alice, bob and the scientist."""
    local = provider(docker_client, tmp_path_factory.mktemp("idp"), f"test-{os.getpid()}")
    atexit.register(local.stop)
    try:
        yield local.start()
    finally:
        local.stop()


@pytest.fixture(scope="session")
def foreign_idp(docker_client, tmp_path_factory) -> Iterator[IdpSite]:
    """Another provider, with users of the same names: one the site does not trust."""
    local = provider(docker_client, tmp_path_factory.mktemp("foreign"), f"foreign-{os.getpid()}")
    atexit.register(local.stop)
    try:
        yield local.start()
    finally:
        local.stop()


@pytest.fixture(scope="session")
def login(idp: IdpSite) -> Login:
    return Login(idp)


@pytest.fixture(scope="session")
def local_rucio(docker_client, idp: IdpSite) -> Iterator[LocalRucio]:
    """The deployment, for the tests that stop its parts or run its test transfer agent."""
    deployment = LocalRucio(
        service_files(REPO),
        CacheLayout.for_project(REPO),
        f"test-{os.getpid()}",
        load_matrix(REPO / "build-matrix.yaml").settings.index_url,
        docker_client,
        idp=idp,
    )
    # Stopped by the fixture's end; atexit covers a run cut short before it; the next run
    # sweeps what a killed one left (records under .cache/rucio/runs/).
    atexit.register(deployment.stop)
    with deployment:
        yield deployment


@pytest.fixture(scope="session")
def rucio_site(local_rucio: LocalRucio) -> RucioSite:
    assert local_rucio.site is not None
    return local_rucio.site


@pytest.fixture
def lab_factory(containers, rucio_site: RucioSite, sdc1_data: Path):
    """Start lab sessions (removed after the test): `lab_factory(**env overrides)`."""

    def start(**overrides: str) -> Lab:
        return start_lab(containers, rucio_site, sdc1_data, overrides)

    return start


@pytest.fixture(scope="module")
def lab(module_containers, rucio_site: RucioSite, sdc1_data: Path) -> Lab:
    """One lab session shared by a module's tests, the scientist logged in to the extension."""
    session = start_lab(module_containers, rucio_site, sdc1_data, {})
    response = session.log_in(rucio_site.password)
    assert response.json() == {"success": True}, response.body
    return session
