"""The linters the field uses, over the repository: ruff, mypy, hadolint, shellcheck, actionlint."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.tools import tool

SKIP_DIRS = {".git", ".cache", ".venv", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class LintResult:
    name: str
    ok: bool
    output: str


def repo_files(root: Path) -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    files = [root / f for f in tracked] if tracked else list(root.rglob("*"))
    return [
        p for p in files if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts)
    ]


def dockerfiles(root: Path) -> list[Path]:
    return sorted(p for p in repo_files(root) if p.name == "Dockerfile")


def shell_scripts(root: Path) -> list[Path]:
    scripts = []
    for path in repo_files(root):
        if path.suffix == ".sh":
            scripts.append(path)
            continue
        try:
            with path.open("rb") as data:
                head = data.read(64)
        except OSError:
            continue
        if head.startswith(b"#!") and b"sh" in head.split(b"\n", 1)[0].split(b"/")[-1]:
            scripts.append(path)
    return sorted(set(scripts))


def workflows(root: Path) -> list[Path]:
    return sorted(
        p
        for p in repo_files(root)
        if p.parent.name == "workflows" and p.suffix in (".yml", ".yaml")
    )


def linters(root: Path) -> dict[str, list[str]]:
    return {
        "ruff": [tool("ruff"), "check", "."],
        "ruff format": [tool("ruff"), "format", "--check", "."],
        # What pyproject.toml names: strict on the build tool; the tests and tasks.py too, every
        # body checked and every `type: ignore` needed.
        "mypy": [tool("mypy")],
        "hadolint": [tool("hadolint"), *map(str, dockerfiles(root))],
        "shellcheck": [tool("shellcheck"), "--external-sources", *map(str, shell_scripts(root))],
        # With our shellcheck, so the run: scripts of the workflows are checked too.
        "actionlint": [
            tool("actionlint"),
            f"-shellcheck={tool('shellcheck')}",
            *map(str, workflows(root)),
        ],
    }


def run_linters(root: Path) -> list[LintResult]:
    results = []
    for name, cmd in linters(root).items():
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
        results.append(LintResult(name, done.returncode == 0, (done.stdout + done.stderr).strip()))
    return results
