"""What a running identity provider of `invoke idp` is: its issuer, its users, the resource its
access tokens are for, and the secrets the site's services need (files of mode 600 only)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hubimages.core.files import write_private

# The test site's people. Hub user name = provider user name = Rucio account.
DEFAULT_USERS = {
    "alice": ["ska", "sdc-team"],
    "bob": ["ska"],
    "scientist": ["ska", "sdc-team"],
}
# The resource server its access tokens are for: Rucio and its storages (one audience).
RESOURCE = "urn:hubimages:rucio"
AUDIENCE = "rucio"
# What Rucio expects in a token's scope by default ([oidc] expected_scope), and WLCG's storage
# scopes, which the storages do not need (they authorise by account and path).
RESOURCE_SCOPE = "openid profile wlcg.groups storage.read:/ storage.modify:/"
RUCIO_EXPECTED_SCOPE = "openid profile"  # Rucio's default [oidc] expected_scope, kept
HUB_SCOPES = ["openid", "profile", "email", "groups", "offline_access"]


@dataclass(frozen=True)
class IdpUser:
    sub: str  # stable, opaque: what Rucio maps to an account (with the issuer)
    username: str
    password: str
    groups: tuple[str, ...]

    @property
    def email(self) -> str:
        return f"{self.username}@hubimages.test"

    def settings(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "groups": list(self.groups),
            "name": self.username.title(),
            "email": self.email,
        }


def load_users(path: Path) -> tuple[IdpUser, ...]:
    """The site's users, made once with random passwords (so identities stay across restarts)."""
    if path.is_file():
        raw = json.loads(path.read_text())
        return tuple(
            IdpUser(u["sub"], u["username"], u["password"], tuple(u["groups"])) for u in raw
        )
    users = tuple(
        IdpUser(str(uuid.uuid4()), name, secrets.token_urlsafe(12), tuple(groups))
        for name, groups in DEFAULT_USERS.items()
    )
    write_private(path, json.dumps([u.settings() for u in users], indent=1))
    return users


@dataclass(frozen=True)
class IdpSite:
    """A running provider. Its record (mode 600) holds the registration token and Rucio's
    client secret; `users_file` the test users' passwords."""

    issuer: str  # https://<gateway>:<port>
    network: str  # its own docker network; it listens on that gateway
    gateway: str
    port: int
    pid: int
    ca_cert: Path  # the site CA: what trusts its certificate
    users_file: Path
    registration_token: str
    rucio_client: tuple[str, str]  # client id and secret, for Rucio's idpsecrets.json
    access_token_seconds: int
    users: tuple[IdpUser, ...] = field(default=(), compare=False)
    started_in: float = field(default=0.0, compare=False)

    @property
    def audience(self) -> str:
        return AUDIENCE

    @property
    def resource(self) -> str:
        return RESOURCE

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def user(self, username: str) -> IdpUser:
        return next(u for u in self.users if u.username == username)

    def save(self, path: Path) -> None:
        data = {**asdict(self), "users": None}
        write_private(path, json.dumps(data, default=str, indent=1))

    @classmethod
    def load(cls, path: Path) -> IdpSite:
        raw = json.loads(path.read_text())
        users_file = Path(raw["users_file"])
        return cls(
            issuer=raw["issuer"],
            network=raw["network"],
            gateway=raw["gateway"],
            port=int(raw["port"]),
            pid=int(raw["pid"]),
            ca_cert=Path(raw["ca_cert"]),
            users_file=users_file,
            registration_token=raw["registration_token"],
            rucio_client=(raw["rucio_client"][0], raw["rucio_client"][1]),
            access_token_seconds=int(raw["access_token_seconds"]),
            users=load_users(users_file) if users_file.is_file() else (),
            started_in=float(raw.get("started_in", 0)),
        )
