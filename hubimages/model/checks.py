"""Checks of matrix values every part of build-matrix.yaml's parser shares."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError


def check_keys(
    path: Path, image: str | None, prefix: str, data: Mapping[Any, Any], allowed: set[str]
) -> None:
    for key in data:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise MatrixError(path, image, f"{prefix}{key}", f"unknown key; allowed: {hint}")


def require_str(path: Path, image: str | None, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(path, image, key, "must be a non-empty string")
    return value
