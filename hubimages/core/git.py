"""The one place that talks to git: the revision built, what changed, files at a revision."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.tools import require
from hubimages.core.urls import public_url

NO_REVISION = "0" * 40


@dataclass(frozen=True)
class Revision:
    full: str
    short: str
    source: str  # the origin URL without credentials, or "" when there is none


def _git(root: Path, *args: str, strip: bool = True) -> str:
    result = subprocess.run(
        [require("git", "git"), *args], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return ""
    return result.stdout.strip() if strip else result.stdout


def revision(root: Path) -> Revision:
    full = _git(root, "rev-parse", "HEAD") or NO_REVISION
    origin = _git(root, "remote", "get-url", "origin")
    return Revision(full=full, short=full[:7], source=public_url(origin) if origin else "")


def is_commit(root: Path, ref: str) -> bool:
    return bool(_git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"))


def changed_files(root: Path, since: str) -> list[str]:
    """Paths changed between `since` and the work tree: committed, staged, edited, or new."""
    changed = _git(root, "diff", "--name-only", since).splitlines()
    untracked = _git(root, "ls-files", "--others", "--exclude-standard").splitlines()
    return sorted({*changed, *untracked} - {""})


def uncommitted_files(root: Path, paths: list[str] | None = None) -> list[str]:
    """Tracked files changed and not committed, and new files git does not ignore."""
    # -z: "XY path" entries split by NUL, a rename followed by its old path; nothing quoted.
    out = _git(
        root,
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--",
        *(paths or []),
        strip=False,
    )
    entries = out.split("\0")
    changed: set[str] = set()
    index = 0
    while index < len(entries):
        entry = entries[index]
        if len(entry) > 3:
            changed.add(entry[3:])
            index += 1 if entry[0] not in "RC" else 2  # skip a rename's old path
        else:
            index += 1
    return sorted(changed)


def file_at(root: Path, ref: str, path: str) -> str | None:
    """A file's text at a revision; None when it did not exist there."""
    result = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def commit_time(root: Path, sha: str) -> int:
    """Committer time of a commit, 0 when this clone does not have it."""
    out = _git(root, "show", "-s", "--format=%ct", f"{sha}^{{commit}}")
    return int(out) if out.isdigit() else 0
