"""The parts of the local hub's jupyterhub_config.py beyond its defaults (services/hub.py):
who logs in (a shared password, or the site's OpenID Connect provider with auth state, token
renewal and groups), persistent homes, the idle culler, limits, and the Rucio accounts of
sessions. Each function returns config lines; the file is mode 600 (it holds the OAuth client
secret and the auth state's encryption key)."""

from __future__ import annotations

import secrets
from pathlib import Path

from hubimages.core.files import write_private
from hubimages.services.idp.clients import OidcClient
from hubimages.services.idp.site import HUB_SCOPES, IdpSite
from hubimages.services.rucio.site import CA_FILE, CONTAINER_SECRETS, RucioSite

CONFIG = """\
# Written by the build tool for a local JupyterHub (hubimages/services/hub.py).
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.hub_ip = "{gateway}"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.db_url = "sqlite:///{root}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/cookie_secret"
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.network_name = "{network}"
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "ifnotpresent"
c.DockerSpawner.prefix = "{name}"
c.DockerSpawner.extra_create_kwargs = {{"labels": {{"{label}": "{name}"}}}}
c.DockerSpawner.volumes = {volumes!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
SESSION_HOOKS = []  # the hub's own steps before a spawn (hubconfig.rucio_sessions)
{extra}
{sections}
# The profiles `invoke profiles` wrote: the images offered, pinned by digest, and the form.
load_subconfig({profiles!r})
{compose}"""

HOME = "/home/jovyan"  # the image's home (DockerSpawner keeps the image's user)
CULL_SECONDS = 1800  # the seed's hub culled servers idle for 30 minutes
ACTIVE_SERVER_LIMIT = 10
AUTH_REFRESH_SECONDS = 20  # how stale the hub lets auth state get before it checks it
# What a server's own API token may do: post activity, reach its server, and read its user's
# name and auth state (skahub_token_file in the images asks for the access token).
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "admin:auth_state!user",
]


def home_volume(hub_name: str, user: str = "{username}") -> str:
    """The named volume of a user's home (DockerSpawner expands {username})."""
    return f"{hub_name}-home-{user}"


def callback_url(hub_url: str) -> str:
    return f"{hub_url}/hub/oauth_callback"


def shared_password(root: Path) -> str:
    password = root / "password"
    if not password.is_file():
        write_private(password, secrets.token_urlsafe(12) + "\n")
    return f"""
# One password for every user name: for one person's trials only (anyone with it can log in
# as anyone). More than one user: invoke hub --auth oidc.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = open("{password}").read().strip()
c.Authenticator.allow_all = True
"""


def oidc_login(root: Path, idp: IdpSite, client: OidcClient, url: str, renewal: Path) -> str:
    """GenericOAuthenticator at the site's provider: PKCE, the Rucio resource's access token,
    user data and groups from the ID token, encrypted auth state, renewal before expiry."""
    key = root / "crypt_key"
    if not key.is_file():
        write_private(key, secrets.token_hex(32) + "\n")
    return f"""
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.login_service = "the test site's identity provider"
c.GenericOAuthenticator.client_id = {client.client_id!r}
c.GenericOAuthenticator.client_secret = {client.client_secret!r}
c.GenericOAuthenticator.authorize_url = {client.authorize_url!r}
c.GenericOAuthenticator.token_url = {client.token_url!r}
c.GenericOAuthenticator.oauth_callback_url = {callback_url(url)!r}
c.GenericOAuthenticator.scope = {HUB_SCOPES!r}
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.extra_authorize_params = {{"resource": {idp.resource!r}}}
c.GenericOAuthenticator.userdata_from_id_token = True
c.GenericOAuthenticator.username_claim = "preferred_username"
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
c.GenericOAuthenticator.allow_all = True
c.GenericOAuthenticator.validate_server_cert = True
c.GenericOAuthenticator.http_request_kwargs = {{"ca_certs": {str(idp.ca_cert)!r}}}
c.Authenticator.enable_auth_state = True
c.CryptKeeper.keys = [bytes.fromhex(open("{key}").read().strip())]
c.Authenticator.refresh_pre_spawn = True
c.Authenticator.auth_refresh_age = {AUTH_REFRESH_SECONDS}
c.Spawner.server_token_scopes = {SERVER_TOKEN_SCOPES!r}
c.JupyterHub.load_roles.append(
    {{"name": "user", "scopes": ["self", "admin:auth_state!user"]}}
)
load_subconfig({str(renewal)!r})
"""


CULLER = "jupyterhub_idle_culler"


def session_limits(hub_name: str, homes: bool, root: Path) -> str:
    """Persistent homes, the idle culler (run in the hub's folder: a stop finds it there), at
    most ACTIVE_SERVER_LIMIT servers."""
    lines = [
        f"c.JupyterHub.active_server_limit = {ACTIVE_SERVER_LIMIT}",
        "c.JupyterHub.services.append({'name': 'idle-culler', 'command': [sys.executable, "
        f"'-m', '{CULLER}', '--timeout={CULL_SECONDS}'], 'cwd': {str(root)!r}}})",
        "c.JupyterHub.load_roles.append({'name': 'idle-culler', 'services': ['idle-culler'], "
        "'scopes': ['list:users', 'read:users:activity', 'read:servers', 'delete:servers']})",
    ]
    if homes:
        lines.append(
            f"c.DockerSpawner.volumes[{home_volume(hub_name)!r}] = {{'bind': {HOME!r}, "
            "'mode': 'rw'}"
        )
    return "\n".join(["", "import sys", *lines, ""])


def rucio_sessions(site: RucioSite, auth: str) -> str:
    """Sessions of users with an account at the local Rucio point at it: with userpass their
    account's files (password, X.509 certificate, CA) mounted read-only, with oidc the CA
    only (their own token does the rest)."""
    env = {k: v for k, v in site.session_env(auth=auth).items() if k != "RUCIO_ACCOUNT"}
    env.pop("RUCIO_USERNAME", None)
    accounts = str(site.client_files / "accounts")
    return f"""
import os as _os

_RUCIO_ENV = {env!r}


def rucio_session(spawner):
    name = spawner.user.name
    env = {{**_RUCIO_ENV, "RUCIO_ACCOUNT": name}}
    if {auth!r} == "oidc":
        mount = {{{str(site.ca_cert)!r}: {{"bind": "{CONTAINER_SECRETS}/{CA_FILE}", "mode": "ro"}}}}
    else:
        folder = _os.path.join({accounts!r}, name)
        if not _os.path.isdir(folder):
            return  # no Rucio account: no Rucio
        env["RUCIO_USERNAME"] = name
        mount = {{folder: {{"bind": "{CONTAINER_SECRETS}", "mode": "ro"}}}}
    spawner.volumes = {{**spawner.volumes, **mount}}
    spawner.environment = {{**spawner.environment, **env}}


SESSION_HOOKS.append(rucio_session)
"""


# After the profiles' file: the hub's own per-session steps run before its pre_spawn_hook.
COMPOSE_HOOKS = """
import inspect as _inspect

_profiles_hook = c.Spawner.pre_spawn_hook if "pre_spawn_hook" in c.Spawner else None


async def _pre_spawn(spawner):
    for step in SESSION_HOOKS:
        step(spawner)
    if _profiles_hook is not None:
        done = _profiles_hook(spawner)
        if _inspect.isawaitable(done):
            await done


c.Spawner.pre_spawn_hook = _pre_spawn
"""
