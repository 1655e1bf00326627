"""Node packages of the local services, installed with npm exactly as a lock in the checkout
says (services/<name>/package-lock.json), into a folder of the cache; again only when the lock
changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hubimages.core.tools import require
from hubimages.errors import HubImagesError

STAMP = ".installed-package-lock.json"  # written after a complete install only


def npm_install(source: Path, folder: Path, what: str) -> Path:
    """`npm ci` of source's package.json and package-lock.json into `folder`; returns it."""
    lock = (source / "package-lock.json").read_bytes()
    stamp = folder / STAMP
    if stamp.is_file() and stamp.read_bytes() == lock:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        (folder / name).write_bytes((source / name).read_bytes())
    try:
        result = subprocess.run(
            [require("npm", "npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        raise HubImagesError(f"installing {what} with npm failed: {error}") from None
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise HubImagesError(
            f"installing {what} with npm failed: {' '.join(said[-2:]) or 'no output'}; "
            "check that this machine reaches the npm registry"
        )
    stamp.write_bytes(lock)
    return folder
