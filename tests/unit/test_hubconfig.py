"""The local hub's jupyterhub_config.py, loaded by the real JupyterHub config loader into the
real authenticator and spawner classes (the running hub is tests/publish/test_hub*.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dockerspawner import DockerSpawner
from jupyterhub.app import JupyterHub
from oauthenticator.generic import GenericOAuthenticator
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

from hubimages.core.ports import free_port
from hubimages.model.project import CHECKOUT
from hubimages.publish.trust.spawn import SpawnTrust
from hubimages.services.hub import RENEWAL_FRAGMENT
from hubimages.services.hubconfig import (
    COMPOSE_HOOKS,
    CONFIG,
    SERVER_TOKEN_SCOPES,
    oidc_login,
    rucio_sessions,
    session_limits,
    shared_password,
)
from hubimages.services.idp.clients import OidcClient
from hubimages.services.idp.site import IdpSite
from hubimages.services.rucio.site import CONTAINER_SECRETS, RseEndpoint, RucioAccount, RucioSite

URL = "http://127.0.0.1:8765"


def idp(tmp_path: Path) -> IdpSite:
    return IdpSite(
        issuer="https://10.9.0.1:9443",
        network="n",
        gateway="10.9.0.1",
        port=9443,
        pid=1,
        ca_cert=tmp_path / "ca.pem",
        users_file=tmp_path / "users.json",
        registration_token="r",  # noqa: S106 - made up
        rucio_client=("rucio", "s"),
        access_token_seconds=120,
    )


def rucio(tmp_path: Path) -> RucioSite:
    return RucioSite(
        name="t",
        network="hubimages-rucio-t",
        gateway="10.0.0.1",
        url="https://10.0.0.1:8443",
        accounts=(RucioAccount("scientist", "pw"), RucioAccount("alice", "pw2")),
        rses=(RseEndpoint("SITE1_USERDISK", "https://10.0.0.1:1/", 1, tmp_path),),
        client_files=tmp_path / "clients",
        root_config=tmp_path / "root.cfg",
        root_proxy=tmp_path / "root.pem",
        venv=tmp_path,
        state=tmp_path,
    )


def write_config(tmp_path: Path, sections: str) -> Path:
    profiles = tmp_path / "profiles.py"
    profiles.write_text("c.DockerSpawner.image = 'img'\n")
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        CONFIG.format(
            port=8765,
            api_port=8766,
            proxy="chp",
            gateway="10.1.0.1",
            hub_port=8081,
            root=tmp_path,
            network="net",
            name="hubimages-hub-t",
            label="hubimages.hub",
            volumes={},
            profiles=str(profiles),
            extra="",
            sections=sections,
            compose=COMPOSE_HOOKS,
        )
    )
    return config


def load(config: Path):
    return PyFileConfigLoader(config.name, path=str(config.parent)).load_config()


def test_oidc_hub_settings_reach_the_real_classes(tmp_path: Path) -> None:
    client = OidcClient("hub-id", "hub-secret", "https://i/auth", "https://i/token")
    renewal = CHECKOUT / "services" / "hub" / RENEWAL_FRAGMENT
    sections = oidc_login(tmp_path, idp(tmp_path), client, URL, renewal)
    sections += session_limits("hubimages-hub-t", homes=True, root=tmp_path)
    config = load(write_config(tmp_path, sections))
    auth = GenericOAuthenticator(config=config)
    assert (auth.client_id, auth.oauth_callback_url) == ("hub-id", f"{URL}/hub/oauth_callback")
    assert auth.enable_pkce and auth.enable_auth_state and auth.userdata_from_id_token
    assert auth.extra_authorize_params == {"resource": "urn:hubimages:rucio"}
    assert auth.manage_groups and auth.auth_state_groups_key == "oauth_user.groups"
    assert auth.refresh_user_hook.__name__ == "renew_before_expiry"
    assert auth.http_request_kwargs == {"ca_certs": str(tmp_path / "ca.pem")}
    assert (tmp_path / "crypt_key").stat().st_mode & 0o777 == 0o600
    hub = JupyterHub(config=config)
    assert hub.active_server_limit == 10
    assert [s["name"] for s in hub.services] == ["idle-culler"]
    assert {"name": "user", "scopes": ["self", "admin:auth_state!user"]} in hub.load_roles
    spawner = DockerSpawner(config=config, user=SimpleNamespace(name="alice", id=1))
    assert spawner.server_token_scopes == SERVER_TOKEN_SCOPES
    assert spawner.volumes["hubimages-hub-t-home-{username}"]["bind"] == "/home/jovyan"


def test_shared_password_hub_says_what_it_is(tmp_path: Path) -> None:
    text = shared_password(tmp_path)
    assert "for one person's trials only" in text
    assert (tmp_path / "password").stat().st_mode & 0o777 == 0o600
    config = load(write_config(tmp_path, text))
    assert config.JupyterHub.authenticator_class == "shared-password"


def test_sessions_get_their_own_rucio_account_as_files(tmp_path: Path) -> None:
    site = rucio(tmp_path)
    (site.client_files / "accounts" / "alice").mkdir(parents=True)
    config = load(write_config(tmp_path, rucio_sessions(site, "userpass")))
    hook = config.Spawner.pre_spawn_hook

    def spawn(name: str) -> SimpleNamespace:
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), volumes={}, environment={})
        asyncio.run(hook(spawner))
        return spawner

    alice = spawn("alice")
    assert alice.environment["RUCIO_ACCOUNT"] == "alice"
    assert alice.environment["RUCIO_PASSWORD_FILE"].startswith(CONTAINER_SECRETS)
    assert "RUCIO_PASSWORD" not in alice.environment
    assert alice.volumes == {
        str(site.client_files / "accounts" / "alice"): {"bind": CONTAINER_SECRETS, "mode": "ro"}
    }
    carol = spawn("carol")  # no account: no Rucio, no mount of a folder that is not hers
    assert carol.volumes == {} and carol.environment == {}
    oidc = load(write_config(tmp_path, rucio_sessions(site, "oidc")))
    spawner = SimpleNamespace(user=SimpleNamespace(name="carol"), volumes={}, environment={})
    asyncio.run(oidc.Spawner.pre_spawn_hook(spawner))
    assert spawner.environment["RUCIO_AUTH_TYPE"] == "oidc"
    assert list(spawner.volumes) == [str(site.ca_cert)]


def test_the_hub_runs_its_session_steps_then_the_profiles_verifying_hook(tmp_path: Path) -> None:
    """The hub's own steps (Rucio accounts) and the hook `invoke profiles` writes (verify, then
    pull) both run, in that order; a refusal reaches the spawn page as one line."""
    site = rucio(tmp_path)
    (site.client_files / "accounts" / "alice").mkdir(parents=True)
    config_path = write_config(tmp_path, rucio_sessions(site, "userpass"))
    trust = SpawnTrust(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # As `invoke profiles` writes them: the hook, and the verifier it loads from beside it.
    (tmp_path / "profiles.py").write_text("c.DockerSpawner.image = 'img'\n" + trust.hook())
    trust.write_verifier(tmp_path)
    hook = load(config_path).Spawner.pre_spawn_hook
    closed = free_port()  # nothing listens there: the registry cannot vouch for the image

    def refusal(image: str) -> tuple[str, SimpleNamespace]:
        spawner = SimpleNamespace(
            user=SimpleNamespace(name="alice"),
            volumes={},
            environment={},
            user_options={},
            allowed_images={},
            image=image,
            log=logging.getLogger("test"),
        )
        with pytest.raises(web.HTTPError) as refused:
            asyncio.run(hook(spawner))
        assert refused.value.status_code == 403
        return refused.value.jupyterhub_message, spawner  # type: ignore[attr-defined]

    message, spawner = refusal("127.0.0.1:5000/ska/base:latest")
    assert message == "127.0.0.1:5000/ska/base:latest is refused: not pinned by digest"
    assert spawner.environment["RUCIO_ACCOUNT"] == "alice"  # the hub's step ran first
    message, _ = refusal(f"127.0.0.1:{closed}/ska/base:t@sha256:{'a' * 64}")
    assert message.startswith(f"127.0.0.1:{closed}/ska/base:t is refused: registry ")
    assert "unreachable" in message
