"""The catalogue of a registry target: every offered environment (what the newest releases
pinned, with its inventory) and every workflow of the matrix (where it passed, whether it is
runnable now), as one JSON document valid against services.catalogue.schema, and the same as
an HTML page. Written by `invoke catalogue` and by every `invoke release`; served by the hub.

A workflow is runnable when a release recorded it passing on the digest its environment is
offered at now, with the notebooks, data and declaration it has now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from hubimages.core.cache import CacheLayout
from hubimages.core.clock import utc_timestamp
from hubimages.core.files import write_atomically, write_json
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.model.workflow_spec import DataFolder, WorkflowSpec
from hubimages.publish.inventory import Inventory
from hubimages.publish.profiles import choices_of, offered
from hubimages.publish.records import PublishedImage, Release, current_images
from hubimages.publish.store import ReleaseStore
from hubimages.publish.workflow_records import WorkflowPass, recorded_passes
from hubimages.services.catalogue.page import render_page
from hubimages.services.catalogue.schema import SCHEMA, SCHEMA_ID, VERSION
from hubimages.verify.workflow_results import load_workflow_record
from hubimages.verify.workflow_run import run_inputs
from hubimages.verify.workflow_source import BRANCH, WorkflowSource

DOCUMENT = "catalogue.json"
PAGE = "index.html"
SCHEMA_FILE = "catalogue.schema.json"


@dataclass(frozen=True)
class CatalogueFiles:
    document: Path
    page: Path
    schema: Path
    environments: int
    workflows: int
    runnable: int


def server_name(environment_id: str) -> str:
    """The named server a launch starts: one per environment (and variant)."""
    return environment_id.replace(":", "-")


def build_catalogue(
    matrix: Matrix, store: ReleaseStore, cache: CacheLayout, sources: dict[str, WorkflowSource]
) -> dict[str, Any]:
    history = store.history()
    if not history:
        raise HubImagesError(
            f"no release recorded in {store.folder.name}: run `invoke release` first"
        )
    current = current_images(history)
    images = offered(matrix, current)
    labels = dict(zip((i.name for i in images), choices_of(matrix, images), strict=True))
    passes = recorded_passes(store)
    return {
        "$schema": SCHEMA_ID,
        "version": VERSION,
        "generated": utc_timestamp(),
        "registry": current.registry,
        "release": current.tag,
        "revision": current.revision,
        "environments": [
            _environment(matrix, store, image, labels[image.name]) for image in images
        ],
        "workflows": [
            _workflow(matrix, cache, spec, sources[spec.name], current, passes)
            for spec in matrix.workflows.values()
        ],
    }


def _environment(
    matrix: Matrix, store: ReleaseStore, image: PublishedImage, label: str
) -> dict[str, Any]:
    spec = matrix.images[image.name]
    inventory = _inventory(store, image)
    return {
        "id": image.name,
        "name": image.name,
        "variant": "",
        "display_name": spec.display_name,
        "description": spec.description,
        "kind": "community" if spec.environment else "image",
        "parent": spec.parent,
        "image": image.pinned,
        "digest": image.digest,
        "image_id": image.image_id,
        "release": image.tag,
        "created": inventory.created,
        "revision": inventory.revision,
        "tags": list(inventory.tags or (image.tag, *image.moving_tags)),
        "python": inventory.python,
        "python_packages": dict(inventory.python_packages),
        "debian_packages": dict(inventory.debian_packages),
        "jupyterhub": image.jupyterhub or inventory.jupyterhub,
        "jupyterlab": image.jupyterlab or inventory.jupyterlab,
        "size": inventory.size,
        "compressed_size": inventory.compressed_size,
        "spawn": {"image": label},
        "server_name": server_name(image.name),
        "findings": [],
    }


def _inventory(store: ReleaseStore, image: PublishedImage) -> Inventory:
    try:
        return store.load_inventory(image.name, image.tag)
    except HubImagesError:  # a release recorded elsewhere: what the record says
        return Inventory(
            image=image.name, release=image.tag, python="", python_packages={}, debian_packages={}
        )


def _workflow(
    matrix: Matrix,
    cache: CacheLayout,
    spec: WorkflowSpec,
    source: WorkflowSource,
    current: Release,
    passes: list[WorkflowPass],
) -> dict[str, Any]:
    mine = [p for p in passes if p.workflow == spec.name and p.environment == spec.environment]
    image = current.image(spec.environment)
    inputs = run_inputs(matrix, spec, source)
    proof = next(
        (p for p in mine if image and p.digest == image.digest and p.inputs == inputs), None
    )
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "description": spec.description,
        "repository": source.origin,
        "ref": spec.ref,
        "commit": source.commit,
        "served": source.served_name,
        "branch": BRANCH,
        "notebooks": list(spec.notebooks),
        "environment": spec.environment,
        "variant": spec.variant,
        "environment_id": spec.environment_id,
        "data": [
            {"files": d.files, "at": d.at} if isinstance(d, DataFolder) else {"did": d.did}
            for d in spec.data
        ],
        "timeout": spec.timeout,
        "passed": [
            {
                "release": p.release,
                "digest": p.digest,
                "commit": p.commit,
                "seconds": p.seconds,
                "finished": p.finished,
            }
            for p in mine
        ],
        "runnable": proof is not None,
        "reason": "" if proof else _reason(cache, spec, image),
        "uses": dict(proof.uses) if proof else {},
        "launch": f"launch/{spec.name}",
    }


def _reason(cache: CacheLayout, spec: WorkflowSpec, image: PublishedImage | None) -> str:
    if image is None:
        return f"environment {spec.environment} has no release"
    record = load_workflow_record(cache.workflow_runs, spec.name, image.image_id)
    if record is not None and not record.passed:
        return f"failed on {image.digest[:19]}: {record.failure}"
    return (
        f"not proven on {image.digest[:19]} with its current notebooks: "
        "the next `invoke release` runs it"
    )


def write_catalogue(
    matrix: Matrix, store: ReleaseStore, cache: CacheLayout, sources: dict[str, WorkflowSource]
) -> CatalogueFiles:
    """The document (validated against the schema first), its schema and its page."""
    document = build_catalogue(matrix, store, cache, sources)
    try:
        jsonschema.validate(document, SCHEMA)
    except jsonschema.ValidationError as problem:
        raise HubImagesError(
            f"the catalogue does not match its schema: {problem.message}"
        ) from None
    folder = store.catalogue
    write_json(folder / SCHEMA_FILE, SCHEMA)
    write_json(folder / DOCUMENT, document)
    write_atomically(folder / PAGE, render_page(document, launch_base=""))
    workflows = document["workflows"]
    return CatalogueFiles(
        folder / DOCUMENT,
        folder / PAGE,
        folder / SCHEMA_FILE,
        len(document["environments"]),
        len(workflows),
        sum(1 for w in workflows if w["runnable"]),
    )
