"""Errors that end a task with one clear line."""

from __future__ import annotations

import os
from pathlib import Path


class HubImagesError(Exception):
    """An error the user can fix; its message is the whole story, printed as one line."""


class MatrixError(HubImagesError):
    def __init__(self, path: Path, image: str | None, key: str | None, message: str) -> None:
        where = [display_path(path)]
        if image is not None:
            where.append(f"image {image!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {message}")


class EngineUnavailableError(HubImagesError):
    pass


class BuildFailedError(HubImagesError):
    pass


def display_path(path: Path) -> str:
    """A path relative to the working directory when it is below it, so messages stay short."""
    try:
        return str(Path(path).resolve().relative_to(Path(os.getcwd()).resolve()))
    except ValueError:
        return str(path)
