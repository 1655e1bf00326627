"""The `workflows:` of build-matrix.yaml, checked from the text alone (docs/workflows.md):

    workflows:
      sdc1-example:
        display_name: SDC1 example pipeline
        description: From the 560 MHz cutout to a scored SDC1 catalogue.
        repository: images/sdc1/notebooks   # a folder of this checkout, or a git URL
        ref: v1.2                           # a git URL's branch, tag or commit (default HEAD)
        notebooks: [sdc1-example.ipynb]     # in the repository; the first opens from a launch
        environment: sdc1                   # an image or a community environment
        variant: bookworm                   # optional: the variant of the environment it
                                            # runs in (default: the matrix's default variant)
        data:
          - {files: data/sdc1, at: /data/sdc1}   # a folder of this checkout, read-only
          - {did: "sdc1:truth_B1_0.3tr.cat"}     # a DID in the site's Rucio
        timeout: 600                        # optional: seconds for the whole headless run

What needs a file or the network (the folder, the notebooks, a URL and its ref) is checked by
verify.workflow_source before anything is built.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from hubimages.errors import HubImagesError, display_path
from hubimages.model.spec import IMAGE_NAME, ImageSpec, Variant
from hubimages.model.workflow_spec import (
    DEFAULT_TIMEOUT,
    DataFolder,
    DataItem,
    RucioDid,
    WorkflowSpec,
)

WORKFLOW_KEYS = {
    "display_name",
    "description",
    "repository",
    "ref",
    "notebooks",
    "environment",
    "variant",
    "data",
    "timeout",
}
DID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][A-Za-z0-9._/-]*$")
MAX_TIMEOUT = 3600


class WorkflowError(HubImagesError):
    """build-matrix.yaml: workflow 'x': key 'y': what is wrong and the fix."""

    def __init__(self, path: Any, workflow: str | None, key: str | None, message: str) -> None:
        where = [display_path(path)]
        if workflow is not None:
            where.append(f"workflow {workflow!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {message}")


def is_url(repository: str) -> bool:
    """A git URL (scheme://... or user@host:path), not a folder of this checkout."""
    return "://" in repository or bool(re.match(r"^[\w.-]+@[\w.-]+:", repository))


def parse_workflows(
    path: Any, raw: Any, environments: dict[str, ImageSpec], variants: dict[str, Variant]
) -> dict[str, WorkflowSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise WorkflowError(path, None, "workflows", "must be a mapping of workflow names")
    workflows = {
        str(name): _workflow(path, name, spec, environments, variants) for name, spec in raw.items()
    }
    _check_mount_points(path, workflows)
    return workflows


def _workflow(
    path: Any, name: Any, raw: Any, environments: dict[str, ImageSpec], variants: dict[str, Variant]
) -> WorkflowSpec:
    if not isinstance(name, str) or not IMAGE_NAME.match(name):
        raise WorkflowError(
            path, str(name), None, "invalid workflow name: use lowercase letters, digits and . _ -"
        )
    if not isinstance(raw, dict):
        raise WorkflowError(path, name, None, "must be a mapping of keys")
    for key in raw:
        if key not in WORKFLOW_KEYS:
            allowed = ", ".join(sorted(WORKFLOW_KEYS))
            raise WorkflowError(path, name, str(key), f"unknown key; allowed: {allowed}")
    repository = _text(path, name, "repository", raw.get("repository"))
    ref = _text(path, name, "ref", raw.get("ref"), required=False)
    if ref and not is_url(repository):
        raise WorkflowError(
            path, name, "ref", "a folder of this checkout has no ref; remove it or give a git URL"
        )
    if not is_url(repository):
        _relative(path, name, "repository", repository)
    environment = _environment(path, name, raw.get("environment"), environments)
    return WorkflowSpec(
        name=name,
        display_name=_text(path, name, "display_name", raw.get("display_name")),
        description=_text(path, name, "description", raw.get("description")),
        repository=repository,
        ref=ref,
        notebooks=_notebooks(path, name, raw.get("notebooks")),
        environment=environment,
        variant=_variant(path, name, raw.get("variant"), environment, variants),
        data=_data(path, name, raw.get("data")),
        timeout=_timeout(path, name, raw.get("timeout", DEFAULT_TIMEOUT)),
    )


def _text(path: Any, name: str, key: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise WorkflowError(path, name, key, "must be a non-empty string")
    return value.strip()


def _relative(path: Any, name: str, key: str, value: str) -> str:
    """A path inside its root: relative, no `..`."""
    parts = PurePosixPath(value).parts
    if value.startswith("/") or ".." in parts or not parts:
        raise WorkflowError(path, name, key, f"{value!r} must be a relative path inside it")
    return value


def _notebooks(path: Any, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise WorkflowError(
            path, name, "notebooks", "must be a list of notebook paths in the repository"
        )
    for notebook in value:
        _relative(path, name, "notebooks", notebook)
        if not notebook.endswith(".ipynb"):
            raise WorkflowError(path, name, "notebooks", f"{notebook!r} is not a .ipynb notebook")
    if len(set(value)) != len(value):
        raise WorkflowError(path, name, "notebooks", "lists a notebook twice; remove one")
    return tuple(value)


def _environment(path: Any, name: str, value: Any, environments: dict[str, ImageSpec]) -> str:
    environment = _text(path, name, "environment", value)
    if environment not in environments:
        known = ", ".join(environments)
        raise WorkflowError(
            path, name, "environment", f"unknown environment {environment!r}; known: {known}"
        )
    return environment


def _variant(
    path: Any, name: str, value: Any, environment: str, variants: dict[str, Variant]
) -> str:
    """The declared variant, or the default one; it must build the environment."""
    given = _text(path, name, "variant", value, required=False)
    if given and given not in variants:
        known = ", ".join(variants)
        raise WorkflowError(path, name, "variant", f"unknown variant {given!r}; known: {known}")
    variant = variants[given] if given else next(v for v in variants.values() if v.default)
    if environment in variant.excluded:
        raise WorkflowError(
            path,
            name,
            "variant" if given else "environment",
            f"variant {variant.name} does not build {environment} "
            f"({variant.excluded[environment]}); give a variant that does",
        )
    return variant.name


def _data(path: Any, name: str, value: Any) -> tuple[DataItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WorkflowError(path, name, "data", "must be a list of {files, at} or {did}")
    return tuple(_data_item(path, name, item) for item in value)


def _data_item(path: Any, name: str, item: Any) -> DataItem:
    if isinstance(item, dict) and set(item) == {"did"}:
        did = item["did"]
        if not isinstance(did, str) or not DID.match(did):
            raise WorkflowError(path, name, "data.did", f"{did!r} is not a Rucio DID scope:name")
        return RucioDid(did)
    if isinstance(item, dict) and set(item) == {"files", "at"}:
        files, at = item["files"], item["at"]
        if not isinstance(files, str) or not isinstance(at, str):
            raise WorkflowError(path, name, "data.files", "files and at must be strings")
        _relative(path, name, "data.files", files)
        target = PurePosixPath(at)
        if not target.is_absolute() or ".." in target.parts or len(target.parts) < 3:
            raise WorkflowError(
                path, name, "data.at", f"{at!r} must be an absolute folder like /data/sdc1"
            )
        return DataFolder(files.rstrip("/"), str(target))
    raise WorkflowError(
        path, name, "data", f"{item!r}: give {{files: FOLDER, at: /PATH}} or {{did: SCOPE:NAME}}"
    )


def _timeout(path: Any, name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_TIMEOUT:
        raise WorkflowError(path, name, "timeout", f"must be seconds, 1 to {MAX_TIMEOUT}")
    return value


def _check_mount_points(path: Any, workflows: dict[str, WorkflowSpec]) -> None:
    """Sessions mount every workflow's folders: one folder per mount point."""
    seen: dict[str, tuple[str, str]] = {}
    for workflow in workflows.values():
        for folder in workflow.folders:
            other = seen.setdefault(folder.at, (workflow.name, folder.files))
            if other[1] != folder.files:
                raise WorkflowError(
                    path,
                    workflow.name,
                    "data.at",
                    f"{folder.at} holds {other[1]} for workflow {other[0]!r}; choose another",
                )
