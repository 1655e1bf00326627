"""Command-line tools the project runs: those of its own virtual environment first."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from hubimages.errors import HubImagesError


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


def require(command: str, package: str) -> str:
    """The path of a command this machine must have, or one line naming the Debian package."""
    found = shutil.which(command)
    if found is None:
        raise HubImagesError(
            f"{command} not found: install Debian's {package} (apt-get install {package}), "
            "or run ./setup.sh, which installs it"
        )
    return found
