"""What every command does the same way: logging, one-line errors, the registry of --registry."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from invoke.exceptions import Exit

from hubimages.errors import HubImagesError
from hubimages.model.project import Project
from hubimages.publish.store import stores_with_history
from hubimages.publish.target import RegistryTarget

INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C
P = ParamSpec("P")
R = TypeVar("R")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("urllib3", "docker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def one_line_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a HubImagesError into `error: ...` and exit 1, with no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except HubImagesError as exc:
            raise Exit(f"error: {exc}", code=1) from None
        except KeyboardInterrupt:
            raise Exit("interrupted", code=INTERRUPTED) from None

    return wrapper


def split_names(names: Sequence[str] | str | None) -> list[str]:
    if not names:
        return []
    if isinstance(names, str):
        names = [names]
    return [n for item in names for n in item.replace(",", " ").split()]


def registry_target(project: Project, value: str, recorded: bool = False) -> RegistryTarget:
    """--registry, or with recorded=True the only registry something was released to."""
    namespace = project.matrix.settings.namespace
    if value:
        return RegistryTarget.parse(value, namespace)
    if recorded:
        stores = stores_with_history(project.cache.publish_root)
        if len(stores) == 1:
            newest = stores[0].history()[0]
            return RegistryTarget.parse(newest.registry, namespace)
        if len(stores) > 1:
            names = ", ".join(s.folder.name for s in stores)
            raise HubImagesError(
                f"releases were made to several registries ({names}): "
                "choose one with --registry HOST[:PORT][/NAMESPACE]"
            )
    if recorded:
        raise HubImagesError(
            "--registry is missing, and nothing was released from this checkout: give "
            "HOST[:PORT][/NAMESPACE], or release first (invoke release --registry ...)"
        )
    raise HubImagesError(
        "--registry is missing: give HOST[:PORT][/NAMESPACE], e.g. --registry 127.0.0.1:5000/ska"
    )


def append_github_output(outputs: dict[str, str]) -> None:
    """key=value lines for the next steps of a GitHub Actions job."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        raise HubImagesError("--github-output: GITHUB_OUTPUT is not set (only in GitHub Actions)")
    with open(target, "a") as out:
        out.writelines(f"{key}={value}\n" for key, value in outputs.items())
