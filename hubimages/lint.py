"""Run the linters the field uses: ruff, hadolint, shellcheck, actionlint."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

SKIP_DIRS = {".git", ".cache", ".venv", "node_modules", "__pycache__"}


def repo_files(root: Path) -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root,
                             capture_output=True, text=True, check=False).stdout.split()
    files = [root / f for f in tracked] if tracked else list(root.rglob("*"))
    return [p for p in files
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts)]


def dockerfiles(root: Path) -> list[Path]:
    return sorted(p for p in repo_files(root) if p.name == "Dockerfile")


def shell_scripts(root: Path) -> list[Path]:
    scripts = []
    for path in repo_files(root):
        if path.suffix == ".sh":
            scripts.append(path)
            continue
        try:
            head = path.open("rb").read(64)
        except OSError:
            continue
        if head.startswith(b"#!") and b"sh" in head.split(b"\n", 1)[0].split(b"/")[-1]:
            scripts.append(path)
    return sorted(set(scripts))


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def workflows(root: Path) -> list[Path]:
    return sorted(p for p in repo_files(root)
                  if p.parent.name == "workflows" and p.suffix in (".yml", ".yaml"))


def linters(root: Path) -> dict[str, list[str]]:
    return {
        "ruff": [_tool("ruff"), "check", "."],
        "hadolint": [_tool("hadolint"), *map(str, dockerfiles(root))],
        "shellcheck": [_tool("shellcheck"), "--external-sources",
                       *map(str, shell_scripts(root))],
        # With our shellcheck, so the run: scripts of the workflows are checked too.
        "actionlint": [_tool("actionlint"), f"-shellcheck={_tool('shellcheck')}",
                       *map(str, workflows(root))],
    }


def run_linters(root: Path) -> bool:
    ok = True
    for name, cmd in linters(root).items():
        result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
        status = "ok" if result.returncode == 0 else "FAILED"
        print(f"{name}: {status}")
        if result.returncode != 0:
            ok = False
            print((result.stdout + result.stderr).strip())
    return ok
