"""The deployment's users: one Rucio account each, and the files a session of that account
mounts. Without an identity provider the users are DEFAULT_USERS; with one, its users, each
account also holding the OIDC identity of the provider's subject (so a token of that user
speaks for that account, at the Rucio server and at the storages)."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from hubimages.core.files import write_private
from hubimages.services.idp.site import RUCIO_EXPECTED_SCOPE, IdpSite
from hubimages.services.rucio.host import is_root
from hubimages.services.rucio.server import OidcTrust
from hubimages.services.rucio.site import (
    CA_FILE,
    PASSWORD_FILE,
    PROXY_FILE,
    SESSION_GID,
    SESSION_UID,
    RucioAccount,
)
from hubimages.services.rucio.storage import TokenTrust
from hubimages.services.tls import SiteCA

SCIENTIST = "scientist"  # first: the account of the tests and of `invoke e2e`
DEFAULT_USERS = (SCIENTIST, "alice", "bob")


def site_accounts(idp: IdpSite | None) -> tuple[RucioAccount, ...]:
    """An account per user, each with a fresh password (and OIDC identity)."""
    if idp is None:
        return tuple(RucioAccount(name, secrets.token_urlsafe(12)) for name in DEFAULT_USERS)
    users = sorted(idp.users, key=lambda u: u.username != SCIENTIST)
    return tuple(
        RucioAccount(u.username, secrets.token_urlsafe(12), f"SUB={u.sub}, ISS={idp.issuer}")
        for u in users
    )


def oidc_trust(idp: IdpSite | None) -> OidcTrust | None:
    """What the Rucio server needs to accept the provider's tokens."""
    if idp is None:
        return None
    client_id, secret = idp.rucio_client
    return OidcTrust(idp.issuer, idp.audience, RUCIO_EXPECTED_SCOPE, client_id, secret)


def token_trust(idp: IdpSite | None, accounts: tuple[RucioAccount, ...]) -> TokenTrust | None:
    """What the storages need to accept the provider's tokens: token subject -> account."""
    if idp is None:
        return None
    subjects = {
        a.oidc_identity.split(",")[0].removeprefix("SUB="): a.name
        for a in accounts
        if a.oidc_identity
    }
    return TokenTrust(idp.issuer, idp.audience, idp.jwks_uri, subjects)


def write_account_files(client_files: Path, accounts: tuple[RucioAccount, ...], ca: SiteCA) -> None:
    """clients/<name>/ca.pem, and per account accounts/<account>/: the CA, the password and
    the X.509 client certificate, the secrets mode 600 and owned by the session's user. The
    accounts folder is root's (mode 700 when we are root): other local users see nothing.
    Files are replaced in place (sessions of an earlier start keep their mounts)."""
    client_files.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ca.cert, client_files / CA_FILE)
    (client_files / CA_FILE).chmod(0o644)
    folder = client_files / "accounts"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o700 if is_root() else 0o755)
    for account in accounts:
        mine = folder / account.name
        mine.mkdir(exist_ok=True)
        shutil.copyfile(ca.cert, mine / CA_FILE)
        (mine / CA_FILE).chmod(0o644)
        write_private(mine / PASSWORD_FILE, account.password + "\n")
        ca.client_file(mine / PROXY_FILE, account.name)
        if is_root():
            for path in (mine, mine / CA_FILE, mine / PASSWORD_FILE, mine / PROXY_FILE):
                os.chown(path, SESSION_UID, SESSION_GID)
        mine.chmod(0o700)


def populate_spec(accounts: tuple[RucioAccount, ...]) -> list[dict[str, str]]:
    """The accounts part of bootstrap.py's SPEC."""
    return [
        {
            "account": a.name,
            "email": f"{a.name}@hubimages.test",
            "password": a.password,
            "scope": a.scope,
            "oidc_identity": a.oidc_identity,
        }
        for a in accounts
    ]
