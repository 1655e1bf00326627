"""The catalogue of a registry target: every offered environment in every variant (what each
variant's newest releases pinned, with its inventory: the profiles' choices) and every workflow
of the matrix (where it passed, whether it is runnable now), as one JSON document valid against
services.catalogue.schema, and the same as an HTML page. Written by `invoke catalogue` and by
every `invoke release`; served by the hub.

A workflow is runnable when a release of its variant recorded it passing on the digest its
environment is offered at now in that variant, with the notebooks, data and declaration it has
now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubimages.core.cache import CacheLayout
from hubimages.core.clock import utc_timestamp
from hubimages.core.files import write_atomically, write_json
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.model.workflow_spec import DataFolder, WorkflowSpec, environment_id
from hubimages.publish.inventory import Inventory
from hubimages.publish.profiles import Choice, Profile, offered, spawn_query
from hubimages.publish.records import PublishedImage, Release, current_releases
from hubimages.publish.store import ReleaseStore
from hubimages.publish.trust.attest import audit_record
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


def server_name(ident: str) -> str:
    """The named server a launch starts: one per environment and variant."""
    return ident.replace(":", "-")


def build_catalogue(
    matrix: Matrix,
    store: ReleaseStore,
    cache: CacheLayout,
    sources: dict[str, WorkflowSource],
    variants: list[str] | None = None,
) -> dict[str, Any]:
    """Every variant released (or those of `variants`), as the profiles offer them."""
    history = store.history()
    if not history:
        raise HubImagesError(
            f"no release recorded in {store.folder.name}: run `invoke release` first"
        )
    releases = {
        name: release
        for name, release in current_releases(history, matrix.default_variant.name).items()
        # by default every variant of the matrix (one it no longer has is not offered)
        if name in (variants or matrix.variants)
    }
    if not releases:
        raise HubImagesError(
            f"no release of a variant of {matrix.path.name} recorded in {store.folder.name}: "
            "run `invoke release` first"
        )
    main = releases.get(matrix.default_variant.name) or next(iter(releases.values()))
    passes = recorded_passes(store)
    return {
        "$schema": SCHEMA_ID,
        "version": VERSION,
        "generated": utc_timestamp(),
        "registry": main.registry,
        "release": main.tag,
        "revision": main.revision,
        "releases": {name: r.tag for name, r in releases.items()},
        "environments": [
            _environment(matrix, store, profile, choice)
            for profile in offered(matrix, releases)
            for choice in profile.choices
        ],
        "workflows": [
            _workflow(matrix, cache, spec, sources[spec.name], releases, passes)
            for spec in matrix.workflows.values()
        ],
    }


def _environment(
    matrix: Matrix, store: ReleaseStore, profile: Profile, choice: Choice
) -> dict[str, Any]:
    """One image in one variant: a choice of the image's profile."""
    spec, image, variant = profile.spec, choice.image, choice.variant
    inventory = _inventory(store, image)
    ident = environment_id(image.name, variant.name)
    return {
        "id": ident,
        "name": image.name,
        "variant": variant.name,
        "default_variant": variant.default,
        "debian_suite": variant.suite,
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
        "python": inventory.python or variant.python,
        "python_packages": dict(inventory.python_packages),
        "debian_packages": dict(inventory.debian_packages),
        "jupyterhub": image.jupyterhub or inventory.jupyterhub,
        "jupyterlab": image.jupyterlab or inventory.jupyterlab,
        "size": inventory.size,
        "compressed_size": inventory.compressed_size,
        "spawn": spawn_query(profile, choice),
        "server_name": server_name(ident),
        "findings": _findings(store, image),
    }


def _findings(store: ReleaseStore, image: PublishedImage) -> list[dict[str, Any]]:
    """The known vulnerabilities of the image's signed audit, each marked accepted (until a
    date, with the site's reason) or not; none where the release was not audited."""
    path = audit_record(store.release_dir(image.tag), image.name)
    if not path.is_file():
        return []
    result = json.loads(path.read_text()).get("scanner", {}).get("result", {})
    accepted = {a["id"]: a for a in result.get("accepted", [])}
    return [
        {**finding, "accepted": accepted.get(finding["id"])}
        for finding in result.get("findings", [])
    ]


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
    releases: dict[str, Release],
    passes: list[WorkflowPass],
) -> dict[str, Any]:
    """The workflow in its one variant: runnable where that variant's release offers the
    digest it passed on."""
    mine = [
        p
        for p in passes
        if (p.workflow, p.environment, p.variant) == (spec.name, spec.environment, spec.variant)
    ]
    current = releases.get(spec.variant)
    image = current.image(spec.environment) if current else None
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
        return f"environment {spec.environment} has no release in variant {spec.variant}"
    record = load_workflow_record(cache.workflow_runs, spec.name, image.image_id)
    if record is not None and not record.passed:
        return f"failed on {image.digest[:19]}: {record.failure}"
    return (
        f"not proven on {image.digest[:19]} with its current notebooks: "
        "the next `invoke release` runs it"
    )


def write_catalogue(
    matrix: Matrix,
    store: ReleaseStore,
    cache: CacheLayout,
    sources: dict[str, WorkflowSource],
    variants: list[str] | None = None,
) -> CatalogueFiles:
    """The document (validated against the schema first), its schema and its page."""
    # Imported here, not at the top: jsonschema takes about 1 s to import (its IRI format
    # checker compiles 38 grammars), which every `invoke` command, a no-op build included,
    # would pay (tests/unit/test_structure.py lists this exception).
    import jsonschema

    document = build_catalogue(matrix, store, cache, sources, variants)
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
