"""Glue between invoke tasks and the library: logging, the matrix, one-line errors."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from invoke.exceptions import Exit

from hubimages.errors import HubImagesError
from hubimages.matrix import Matrix, load_matrix
from hubimages.records import Release
from hubimages.registry import RegistryTarget

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ROOT / "build-matrix.yaml"


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr, force=True,
    )
    for noisy in ("urllib3", "docker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def matrix(path: str | None = None) -> Matrix:
    return load_matrix(Path(path) if path else MATRIX)


def one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a HubImagesError into `error: ...` and exit 1, with no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HubImagesError as exc:
            raise Exit(f"error: {exc}", code=1) from None
        except KeyboardInterrupt:
            raise Exit("interrupted", code=130) from None

    return wrapper


def registry_target(matrix: Matrix, value: str, recorded: bool = False) -> RegistryTarget:
    """--registry, or with recorded=True the only registry something was released to."""
    if value:
        return RegistryTarget.parse(value, matrix.settings.namespace)
    if recorded:
        from hubimages.builder import cache_dir
        from hubimages.manifests import load_history

        histories = sorted((cache_dir(matrix) / "publish").glob("*/history.json"))
        if len(histories) == 1:
            newest = load_history(histories[0].parent)[0]
            return RegistryTarget.parse(newest.registry, matrix.settings.namespace)
        if len(histories) > 1:
            names = ", ".join(p.parent.name for p in histories)
            raise HubImagesError(f"releases were made to several registries ({names}): "
                                 "choose one with --registry HOST[:PORT][/NAMESPACE]")
    raise HubImagesError("--registry is missing: give HOST[:PORT][/NAMESPACE], e.g. "
                         "--registry 127.0.0.1:5000/ska")


def append_github_output(outputs: dict[str, str]) -> None:
    """key=value lines for the next steps of a GitHub Actions job."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        raise HubImagesError("--github-output: GITHUB_OUTPUT is not set (only in GitHub Actions)")
    with open(target, "a") as out:
        out.writelines(f"{key}={value}\n" for key, value in outputs.items())


def release_summary(release: Release) -> str:
    lines = [f"release {release.tag} to {release.registry}:"]
    width = max(len(i.name) for i in release.images)
    lines += [f"  {i.name:{width}}  {i.pinned}" for i in release.images]
    return "\n".join(lines)


def split_names(names: tuple[str, ...] | list[str] | str | None) -> list[str]:
    if not names:
        return []
    if isinstance(names, str):
        names = [names]
    return [n for item in names for n in item.replace(",", " ").split()]


def expand_positional_images(tasks: list[Any]) -> None:
    """Let `invoke build sdc1 ml` mean `invoke build --image sdc1 --image ml`.

    invoke has no optional, variadic positional arguments, and `invoke build` alone must build
    everything. invoke parses its core options, then imports tasks.py, then parses the task
    arguments it kept aside: rewriting those here, before that last parse, is enough.
    """
    try:
        from invoke.main import program

        argv = program.core.unparsed
    except (ImportError, AttributeError):
        return
    with_images = {t.name: t for t in tasks if "image" in t.iterable}
    known = {t.name for t in tasks}
    value_flags: dict[str, set[str]] = {}
    for name, t in with_images.items():
        flags = set()
        for arg in t.get_arguments():
            if arg.takes_value:
                flags.update(f"--{n.replace('_', '-')}" if len(n) > 1 else f"-{n}"
                             for n in arg.names)
        value_flags[name] = flags
    out: list[str] = []
    current: str | None = None
    expecting_value = False
    for token in argv:
        if expecting_value:
            out.append(token)
            expecting_value = False
        elif token in known:
            current = token if token in with_images else None
            out.append(token)
        elif token.startswith("-"):
            out.append(token)
            expecting_value = current is not None and token in value_flags[current]
        elif current is not None:
            out += ["--image", token]
        else:
            out.append(token)
    argv[:] = out
