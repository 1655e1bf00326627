"""A repository's files at a commit: from a bare git mirror kept in the cache, or a folder.

Only the host fetches: a git URL it can reach (or a local git repository), cloned once and
updated on each build; the commit asked for is exported (`git archive`, no .git, no
submodules) into a work folder that repo2docker then builds from. A folder that is not the root
of a git repository (e.g. an environment kept inside this project) is taken as its files are,
identified by a hash of them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.cache import CacheLayout
from hubimages.core.files import file_sha256, folder_files
from hubimages.core.git import uncommitted_files
from hubimages.core.tools import require
from hubimages.core.urls import public_url
from hubimages.errors import HubImagesError
from hubimages.model.spec import Repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    path: Path  # what repo2docker builds from (the subdir, if one was asked for)
    url: str  # for labels and messages: never with credentials
    ref: str  # as asked ("" = HEAD)
    commit: str  # full sha; "" for a folder that is not a git repository
    content_id: str  # short sha, or local-<hash> of a plain folder's files

    @property
    def tag(self) -> str:
        return self.content_id


def is_remote(url: str) -> bool:
    return "://" in url or (":" in url and "@" in url.split(":", 1)[0])


def check_out(repository: Repository, base: Path, cache: CacheLayout, into: Path) -> Checkout:
    """The repository's files in `into`; a relative folder is relative to `base`."""
    url = repository.url
    if not is_remote(url):
        folder = (base / url).resolve()
        if not folder.is_dir():
            raise HubImagesError(f"repository {url}: no such folder")
        if _git(folder, "rev-parse", "--show-toplevel", check=False) != str(folder):
            # Not a repository of its own (maybe a folder kept in this project): its files.
            return _copy_folder(folder, repository, into)
        url = str(folder)
        if not repository.ref and uncommitted_files(folder):
            log.warning("%s has uncommitted changes: its HEAD commit is built", folder)
    mirror = mirror_of(url, cache)
    commit = resolve_ref(mirror, repository, url)
    _export(mirror, commit, into)
    return Checkout(_subdir(into, repository), public_url(url), repository.ref, commit, commit[:7])


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    # Never ask for a password: a repository that needs one is unreachable here.
    result = subprocess.run(
        [require("git", "git"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if result.returncode != 0:
        if check:
            raise HubImagesError(
                " ".join(result.stderr.strip().splitlines()[-1:]) or f"git {args[0]} failed"
            )
        return ""
    return result.stdout.strip()


def mirror_of(url: str, cache: CacheLayout) -> Path:
    """A bare mirror of the repository in the cache, fetched now."""
    mirror = cache.repositories / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"
    shown = public_url(url)
    try:
        if mirror.is_dir():
            _git(mirror, "remote", "update", "--prune")
        else:
            mirror.parent.mkdir(parents=True, exist_ok=True)
            _git(mirror.parent, "clone", "--quiet", "--mirror", url, mirror.name)
    except HubImagesError as exc:
        raise HubImagesError(
            f"repository {shown} cannot be fetched: {str(exc).replace(url, shown)}"
        ) from None
    return mirror


def resolve_ref(mirror: Path, repository: Repository, url: str) -> str:
    ref = repository.ref or "HEAD"
    commit = _git(mirror, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not commit:
        raise HubImagesError(
            f"repository {public_url(url)}: unknown ref {ref!r}; give a "
            "branch, tag or commit it has"
        )
    return commit


def _export(mirror: Path, commit: str, into: Path) -> None:
    data = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=mirror, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise HubImagesError(f"repository archive holds an unsafe path {member.name}")
        archive.extractall(into)  # noqa: S202 - members checked above


def _copy_folder(folder: Path, repository: Repository, into: Path) -> Checkout:
    if repository.ref:
        raise HubImagesError(
            f"repository {folder}: --ref {repository.ref} needs a git "
            "repository, and this folder is not one"
        )
    digest = hashlib.sha256()
    for path in folder_files(folder):
        relative = path.relative_to(folder)
        digest.update(f"{relative.as_posix()}\0{file_sha256(path)}\n".encode())
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        target.chmod(path.stat().st_mode & 0o777)
    return Checkout(
        _subdir(into, repository), str(folder), "", "", f"local-{digest.hexdigest()[:12]}"
    )


def _subdir(into: Path, repository: Repository) -> Path:
    path = into / repository.subdir if repository.subdir else into
    if not path.is_dir():
        raise HubImagesError(
            f"repository {public_url(repository.url)}: no folder {repository.subdir!r} in it"
        )
    return path
