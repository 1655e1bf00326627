"""Command-line tools the project runs: those of its own virtual environment first."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def tool(name: str) -> str:
    """A console script beside this interpreter (the project's venv), else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def uv_command() -> list[str]:
    found = Path(sys.executable).parent / "uv"
    if found.exists():
        return [str(found)]
    on_path = shutil.which("uv")
    return [on_path] if on_path else [sys.executable, "-m", "uv"]
