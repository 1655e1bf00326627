"""The site's signing key: made by `invoke keys` when absent, read when a release signs.

An ECDSA P-256 key pair. The private key is written in cosign's encrypted format (PEM block
"ENCRYPTED COSIGN PRIVATE KEY": PKCS#8, sealed with nacl/secretbox under a key scrypt derives
from the passphrase, N=32768 r=8 p=1), the format skopeo 1.9.3 signs with
(`--sign-by-sigstore-private-key`, which cannot make one) and cosign reads; the passphrase is a
file beside it. Both are mode 600 in a folder of mode 700 outside the checkout
($HUBIMAGES_KEYS, default ~/.config/hubimages/keys), so no build context, layer, record or log
ever holds them. The public key (PEM) is what hubs and `invoke verify` trust.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from securesystemslib.signer import CryptoSigner

from hubimages.errors import HubImagesError
from hubimages.publish.trust.verification import site_key

KEYS_ENV = "HUBIMAGES_KEYS"
PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"
SCRYPT = {"N": 32768, "r": 8, "p": 1}  # the only parameters cosign's and skopeo's readers accept


@dataclass(frozen=True)
class SiteKeys:
    folder: Path

    @classmethod
    def default(cls) -> SiteKeys:
        configured = os.environ.get(KEYS_ENV, "")
        return cls(Path(configured) if configured else Path.home() / ".config/hubimages/keys")

    @property
    def private(self) -> Path:
        return self.folder / "cosign.key"

    @property
    def passphrase(self) -> Path:
        return self.folder / "cosign.password"

    @property
    def public(self) -> Path:
        return self.folder / "cosign.pub"

    def exists(self) -> bool:
        return self.public.is_file()


def generate(keys: SiteKeys) -> bool:
    """Make the key pair unless it exists; True when made. The public key is written last, so a
    folder with it is complete."""
    if keys.exists():
        _check_private(keys)
        return False
    if keys.private.exists():
        raise HubImagesError(
            f"{keys.private} exists without {keys.public.name}: restore the public key, or move "
            "the folder away to make a new key (hubs then need the new public key)"
        )
    keys.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys.folder.chmod(0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    passphrase = secrets.token_urlsafe(32).encode()
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_secret(keys.passphrase, passphrase)
    _write_secret(keys.private, encrypt_private_key(der, passphrase))
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    partial = keys.public.with_suffix(".partial")
    partial.write_bytes(public)
    partial.replace(keys.public)
    return True


def encrypt_private_key(der: bytes, passphrase: bytes) -> bytes:
    salt, nonce = secrets.token_bytes(32), secrets.token_bytes(24)
    box = nacl.secret.SecretBox(_derive(passphrase, salt))
    sealed = box.encrypt(der, nonce).ciphertext
    data = {
        "kdf": {"name": "scrypt", "params": SCRYPT, "salt": _b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": _b64(nonce)},
        "ciphertext": _b64(sealed),
    }
    body = base64.encodebytes(json.dumps(data).encode()).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(
        [f"-----BEGIN {PEM_TYPE}-----", *lines, f"-----END {PEM_TYPE}-----", ""]
    ).encode()


def decrypt_private_key(pem: bytes, passphrase: bytes) -> bytes:
    text = pem.decode().strip()
    header, footer = f"-----BEGIN {PEM_TYPE}-----", f"-----END {PEM_TYPE}-----"
    if not text.startswith(header) or not text.endswith(footer):
        raise HubImagesError(f"the site key is not a PEM block of type {PEM_TYPE!r}")
    data = json.loads(base64.b64decode(text.removeprefix(header).removesuffix(footer)))
    if data["kdf"]["params"] != SCRYPT or data["cipher"]["name"] != "nacl/secretbox":
        raise HubImagesError("the site key uses parameters cosign's format does not have")
    box = nacl.secret.SecretBox(_derive(passphrase, base64.b64decode(data["kdf"]["salt"])))
    try:
        return bytes(
            box.decrypt(
                base64.b64decode(data["ciphertext"]), base64.b64decode(data["cipher"]["nonce"])
            )
        )
    except nacl.exceptions.CryptoError:
        raise HubImagesError("the site key does not open with its passphrase file") from None


def load_signer(keys: SiteKeys) -> CryptoSigner:
    """The signer of a release; refuses a key that others may read."""
    if not keys.exists():
        raise HubImagesError(
            f"no site signing key in {keys.folder}: run `invoke keys` (or set {KEYS_ENV} to the "
            "folder that holds it)"
        )
    _check_private(keys)
    der = decrypt_private_key(keys.private.read_bytes(), keys.passphrase.read_bytes().strip())
    private = serialization.load_der_private_key(der, password=None)
    return CryptoSigner(private, site_key(public_pem(keys)))


def public_pem(keys: SiteKeys) -> str:
    if not keys.exists():
        raise HubImagesError(f"no site public key {keys.public}: run `invoke keys`")
    return keys.public.read_text()


def _check_private(keys: SiteKeys) -> None:
    for path in (keys.private, keys.passphrase):
        if not path.is_file():
            raise HubImagesError(f"{path} is missing: restore it, or make a new key elsewhere")
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise HubImagesError(f"{path} may be read by others: chmod 600 {path}")


def _write_secret(path: Path, data: bytes) -> None:
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    partial.replace(path)


def _derive(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT["N"], r=SCRYPT["r"], p=SCRYPT["p"]).derive(
        passphrase
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
