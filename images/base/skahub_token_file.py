"""Keep the user's current access token in a file for as long as the server runs.

A Jupyter Server extension (enabled by /etc/jupyter/jupyter_server_config.d/): under a hub
that logs users in through an OpenID Connect provider and lets a server read its own user's
auth state (the server token's scopes `read:users:name!user` and `admin:auth_state!user`), it
asks the hub's API for the access token at start and again before it expires. The hub
refreshes it with the provider (its refresh token never leaves the hub). The token goes to
one file, mode 600, where data-lake clients look for one (WLCG Bearer Token Discovery):
$BEARER_TOKEN_FILE, else $XDG_RUNTIME_DIR/bt_u<uid>, else /tmp/bt_u<uid>. It is never put in
the environment, a log line or a notebook. Without such a hub it does nothing (one log line).

The file is renewed once less than RENEW_AT of its lifetime is left (a 2-minute token: with
72 s left; an hour's: 36 min) and asked again every RETRY_SECONDS until the hub hands over a
newer one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tornado.ioloop import IOLoop

RENEW_AT = 0.6  # of the token's lifetime, left when a newer one is asked for
RETRY_SECONDS = 10
FALLBACK_SECONDS = 300  # a token with no readable lifetime is asked for again this often
TIMEOUT_SECONDS = 10


def token_path() -> Path:
    """Where the token goes: WLCG Bearer Token Discovery's order of places."""
    explicit = os.environ.get("BEARER_TOKEN_FILE", "").strip()
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    return Path(runtime or "/tmp") / f"bt_u{os.geteuid()}"


def lifetime(token: str) -> tuple[float, float] | None:
    """(issued at, expires at) of a JWT, read without checking it (it only times renewals)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims.get("iat", time.time())), float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically by a file of mode 600 (never through a link)."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class TokenFile:
    """Asks the hub for the user's access token and keeps the file current."""

    def __init__(self, api_url: str, api_token: str, user: str, path: Path, log: Any) -> None:
        self.url = f"{api_url.rstrip('/')}/users/{urllib.parse.quote(user)}"
        self._api_token = api_token
        self.path = path
        self.log = log
        self.token = ""
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @classmethod
    def from_environment(cls, log: Any) -> TokenFile | None:
        names = ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER")
        if not all(os.environ.get(name) for name in names):
            return None
        url, token, user = (os.environ[name] for name in names)
        return cls(url, token, user, token_path(), log)

    def ask(self) -> str:
        """The access token in the user's auth state, as the hub has it now ('' if none)."""
        request = urllib.request.Request(  # noqa: S310 - the hub's API URL
            self.url, headers={"Authorization": f"token {self._api_token}"}
        )
        with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            model = json.load(response)
        state = model.get("auth_state") or {}
        return str(state.get("access_token") or "")

    def renew(self) -> float:
        """Ask the hub, write a newer token; seconds until the next ask (0: stop)."""
        try:
            token = self.ask()
        except (urllib.error.URLError, OSError, ValueError) as error:
            if not self.token and isinstance(error, urllib.error.HTTPError) and error.code == 403:
                self.log.info("skahub_token_file: the hub shares no auth state; no token file")
                return 0
            self.log.warning("skahub_token_file: asking the hub failed (%s); again soon", error)
            return RETRY_SECONDS
        if not token:
            if not self.token:
                self.log.info("skahub_token_file: the hub holds no access token; no token file")
                return 0
            self.log.warning("skahub_token_file: the hub no longer holds an access token")
            return RETRY_SECONDS
        if token != self.token:
            write_private(self.path, token)
            self.token = token
            self.log.info("skahub_token_file: %s renewed (%s)", self.path, self.describe())
        return self.wait()

    def describe(self) -> str:
        times = lifetime(self.token)
        return f"valid {times[1] - time.time():.0f} s" if times else "lifetime unknown"

    def wait(self) -> float:
        """Seconds until a newer token should be asked for."""
        times = lifetime(self.token)
        if times is None:
            return FALLBACK_SECONDS
        issued, expires = times
        renew_at = expires - RENEW_AT * max(expires - issued, 0)
        return max(renew_at - time.time(), RETRY_SECONDS)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "skahub_token_file"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    keeper = TokenFile.from_environment(serverapp.log)
    if keeper is None:
        return
    # The first token is written before the server answers, so the lab's clients find it.
    first = keeper.renew()
    if first > 0:
        loop = getattr(serverapp, "io_loop", None) or IOLoop.current()
        loop.add_callback(_keep, keeper, first)


async def _keep(keeper: TokenFile, delay: float) -> None:
    while delay > 0:
        await asyncio.sleep(delay)
        delay = await asyncio.to_thread(keeper.renew)
