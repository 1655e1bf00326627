"""A workflow's repository as it runs and as sessions pull it: one bare git repository per
workflow in the cache (branch `main`), which the headless run exports and the hub's git
service serves read-only (docs/workflows.md).

- A folder of this checkout becomes a commit of its files as they are on disk (tracked and new,
  not ignored); a new commit, on top of the last one, only when they changed, so a session's
  clone always fast-forwards.
- A git URL is mirrored (the cache's mirror of every repository) and the commit of its ref is
  pushed to `main`.

Every check that needs the files or the network is here, before anything is built: the folder,
the URL and its ref, each notebook at that commit. A mistake is one line naming workflow and key.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hubimages.builder.userenv.source import mirror_of, resolve_ref
from hubimages.core.cache import CacheLayout
from hubimages.core.urls import public_url
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix, Repository
from hubimages.model.workflow_spec import WorkflowSpec
from hubimages.model.workflows import WorkflowError, is_url

BRANCH = "main"
IDENTITY = {
    "GIT_AUTHOR_NAME": "hubimages",
    "GIT_AUTHOR_EMAIL": "hubimages@localhost",
    "GIT_COMMITTER_NAME": "hubimages",
    "GIT_COMMITTER_EMAIL": "hubimages@localhost",
}


@dataclass(frozen=True)
class WorkflowSource:
    workflow: str
    served: Path  # the bare repository sessions pull (<name>.git)
    commit: str  # what runs, and what sessions get
    tree: str  # the files' identity: the same files, the same tree, whatever the history
    origin: str  # the declared folder, or the URL without credentials

    @property
    def served_name(self) -> str:
        return self.served.name


def git(cwd: Path, *args: str, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
    )
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise HubImagesError(f"git {args[0]}: {detail[0] if detail else result.returncode}")
    return result.stdout.decode(errors="replace").strip()


def prepare_sources(matrix: Matrix, cache: CacheLayout) -> dict[str, WorkflowSource]:
    """Every workflow's repository, ready to run and to serve; checked before any build."""
    return {name: prepare_source(matrix, cache, spec) for name, spec in matrix.workflows.items()}


def prepare_source(matrix: Matrix, cache: CacheLayout, spec: WorkflowSpec) -> WorkflowSource:
    served = cache.workflow_repositories / f"{spec.name}.git"
    if not served.is_dir():
        served.mkdir(parents=True)
        git(served, "init", "--quiet", "--bare", "--initial-branch", BRANCH)
    if is_url(spec.repository):
        commit = _from_url(matrix, cache, spec, served)
        origin = public_url(spec.repository)
    else:
        commit = _from_folder(matrix, spec, served)
        origin = spec.repository
    _check_files(matrix, spec, served, commit)
    return WorkflowSource(
        spec.name, served, commit, git(served, "rev-parse", f"{commit}^{{tree}}"), origin
    )


def _from_url(matrix: Matrix, cache: CacheLayout, spec: WorkflowSpec, served: Path) -> str:
    shown = public_url(spec.repository)
    try:
        mirror = mirror_of(spec.repository, cache)
    except HubImagesError as problem:
        raise WorkflowError(matrix.path, spec.name, "repository", str(problem)) from None
    try:
        commit = resolve_ref(mirror, Repository(spec.repository, spec.ref), spec.repository)
    except HubImagesError:
        raise WorkflowError(
            matrix.path,
            spec.name,
            "ref",
            f"{shown} has no branch, tag or commit {spec.ref or 'HEAD'!r}",
        ) from None
    git(mirror, "push", "--quiet", "--force", str(served), f"{commit}:refs/heads/{BRANCH}")
    return commit


def _from_folder(matrix: Matrix, spec: WorkflowSpec, served: Path) -> str:
    folder = matrix.root / spec.repository
    if not folder.is_dir():
        raise WorkflowError(
            matrix.path, spec.name, "repository", f"no folder {spec.repository} in this checkout"
        )
    files = _folder_files(folder)
    if not files:
        raise WorkflowError(matrix.path, spec.name, "repository", f"{spec.repository} is empty")
    index = served / "workflow-index"
    index.unlink(missing_ok=True)
    env = {"GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(folder), "GIT_DIR": str(served)}
    git(folder, "add", "--pathspec-from-file=-", "--pathspec-file-nul", env=env, data=files)
    tree = git(folder, "write-tree", env=env)
    index.unlink(missing_ok=True)
    head = _head(served)
    if head and git(served, "rev-parse", f"{head}^{{tree}}") == tree:
        return head
    parents = ["-p", head] if head else []
    message = f"{spec.repository} of this checkout, for workflow {spec.name}"
    commit = git(served, "commit-tree", tree, *parents, "-m", message, env=IDENTITY)
    git(served, "update-ref", f"refs/heads/{BRANCH}", commit)
    return commit


def _head(served: Path) -> str:
    try:
        return git(served, "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}^{{commit}}")
    except HubImagesError:
        return ""  # a new repository: no commit yet


def _folder_files(folder: Path) -> bytes:
    """NUL-separated paths relative to the folder: what git tracks or would (not ignored)."""
    try:
        listed = git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard", ".")
    except HubImagesError:
        listed = ""  # not in a git checkout: every file
    names = [n for n in listed.split("\0") if n and (folder / n).is_file()]
    if not names:
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return "\0".join(sorted(names)).encode()


def _check_files(matrix: Matrix, spec: WorkflowSpec, served: Path, commit: str) -> None:
    at = f"{spec.ref or 'HEAD'} ({commit[:7]})" if is_url(spec.repository) else "on disk"
    for notebook in spec.notebooks:
        try:
            git(served, "cat-file", "-e", f"{commit}:{notebook}")
        except HubImagesError:
            raise WorkflowError(
                matrix.path,
                spec.name,
                "notebooks",
                f"{notebook} is not in {public_url(spec.repository)} {at}",
            ) from None
    for folder in spec.folders:
        if not (matrix.root / folder.files).is_dir():
            raise WorkflowError(
                matrix.path, spec.name, "data.files", f"no folder {folder.files} in this checkout"
            )


def export(source: WorkflowSource, into: Path) -> None:
    """The files of the commit into a folder (no .git): what the headless run works in."""
    data = subprocess.run(
        ["git", "archive", "--format=tar", source.commit],
        cwd=source.served,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise HubImagesError(f"{source.origin} holds an unsafe path {member.name}")
        archive.extractall(into)  # noqa: S202 - members checked above
