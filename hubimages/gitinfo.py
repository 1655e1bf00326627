"""The git revision images are built from."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Revision:
    full: str
    short: str
    source: str  # the origin URL, or "" when there is none


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def revision(root: Path) -> Revision:
    full = _git(root, "rev-parse", "HEAD") or "0" * 40
    return Revision(full=full, short=full[:7], source=_git(root, "remote", "get-url", "origin"))


def is_commit(root: Path, ref: str) -> bool:
    return bool(_git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"))


def changed_files(root: Path, since: str) -> list[str]:
    """Paths changed between `since` and the work tree: committed, staged, edited, or new."""
    changed = _git(root, "diff", "--name-only", since).splitlines()
    untracked = _git(root, "ls-files", "--others", "--exclude-standard").splitlines()
    return sorted({*changed, *untracked} - {""})


def file_at(root: Path, ref: str, path: str) -> str | None:
    """A file's text at a revision; None when it did not exist there."""
    result = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True,
                            text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def is_dirty(root: Path) -> bool:
    """Tracked files changed and not committed (untracked files do not count)."""
    return bool(_git(root, "status", "--porcelain", "--untracked-files=no"))


def commit_time(root: Path, sha: str) -> int:
    """Committer time of a commit, 0 when this clone does not have it."""
    out = _git(root, "show", "-s", "--format=%ct", f"{sha}^{{commit}}")
    return int(out) if out.isdigit() else 0
