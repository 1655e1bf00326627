"""The catalogue of releases in two variants, written from real release records without an
engine: each environment once per variant, each workflow in its own variant (runnable only
where that variant's release offers the digest it passed on), and a launch link's spawn query
choosing that image and variant in the real DockerSpawner and KubeSpawner."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from kubespawner import KubeSpawner

from hubimages.core.cache import CacheLayout
from hubimages.core.files import write_json
from hubimages.model.acceptances import Acceptance
from hubimages.model.load import load_matrix
from hubimages.model.spec import Matrix
from hubimages.publish.catalogue import build_catalogue, write_catalogue
from hubimages.publish.profiles import DOCKERSPAWNER_FILE, Z2JH_FILE, write_profiles
from hubimages.publish.records import PublishedImage, Release, current_releases
from hubimages.publish.store import ReleaseStore
from hubimages.publish.trust.attest import audit_record
from hubimages.publish.trust.audit import Finding, ImageAudit
from hubimages.publish.workflow_records import WorkflowPass, write_passes
from hubimages.services.catalogue.query import CatalogueIndex, EnvironmentQuery, WorkflowQuery
from hubimages.services.catalogue.schema import SCHEMA
from hubimages.verify.workflow_run import run_inputs
from hubimages.verify.workflow_source import WorkflowSource, prepare_sources

from .conftest import write_matrix
from .test_profiles import TRUST, load_dockerspawner, profile_list

TAG = "2026-12-03-abc1234"
OLD = "python-3.9-2026-12-03-abc1234"  # the other variant's tag of the same build run
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}

pytestmark = pytest.mark.usefixtures("offline_kubeconfig")


def image(name: str, letter: str, tag: str) -> PublishedImage:
    return PublishedImage(
        name=name,
        repository=f"127.0.0.1:5000/ska/{name}",
        tag=tag,
        digest="sha256:" + letter * 64,
        image_id="sha256:" + letter * 63 + "0",
        jupyterhub="5.5.4",
        jupyterlab="4.6.6",
    )


def release(variant: str, tag: str, *images: PublishedImage) -> Release:
    return Release(
        tag=tag,
        registry="127.0.0.1:5000/ska",
        created="2026-12-03T08:00:00Z",
        revision="abc1234" + "0" * 33,
        images=images,
        variant=variant,
    )


@pytest.fixture
def project(tmp_path: Path, matrix_data: dict) -> tuple[Matrix, CacheLayout]:
    """Variants bookworm (the default) and old (no c); a workflow on a in each, one on c."""
    matrix_data["variants"]["old"] = {
        "debian": "oldstable",
        "python": "3.9",
        "glibc": "2.31",
        "exclude": {"c": "not for Python 3.9"},
    }
    flow = {
        "display_name": "Look",
        "description": "d",
        "repository": "flows/look",
        "notebooks": ["look.ipynb"],
    }
    matrix_data["workflows"] = {
        "look": {**flow, "environment": "a"},
        "look-old": {**flow, "environment": "a", "variant": "old"},
        "look-c": {**flow, "environment": "c"},
    }
    (tmp_path / "flows" / "look").mkdir(parents=True)
    (tmp_path / "flows" / "look" / "look.ipynb").write_text(json.dumps(NOTEBOOK))
    return load_matrix(write_matrix(tmp_path, matrix_data)), CacheLayout(tmp_path / ".cache")


def record(
    store: ReleaseStore, matrix: Matrix, sources: dict[str, WorkflowSource], released: Release
) -> None:
    """The release in the history, and every workflow of its variant passed on its images."""
    store.add_to_history(released)
    view = matrix.for_variant(released.variant)
    passes = []
    for spec in view.variant_workflows.values():
        found = released.image(spec.environment)
        assert found is not None
        passes.append(
            WorkflowPass(
                workflow=spec.name,
                environment=spec.environment,
                variant=spec.variant,
                release=released.tag,
                digest=found.digest,
                image_id=found.image_id,
                commit=sources[spec.name].commit,
                inputs=run_inputs(view, spec, sources[spec.name]),
                seconds=1.0,
                finished=released.created,
                uses={"astropy": "7.1.0"},
            )
        )
    write_passes(store, released.tag, passes)


@pytest.fixture
def catalogue(project, tmp_path: Path) -> tuple[Matrix, ReleaseStore, dict[str, Any]]:
    matrix, cache = project
    sources = prepare_sources(matrix, cache)
    store = ReleaseStore(tmp_path / "publish")
    new = [image("base", "b", TAG), image("a", "a", TAG), image("c", "c", TAG)]
    record(store, matrix, sources, release("bookworm", TAG, *new))
    record(
        store, matrix, sources, release("old", OLD, image("base", "e", OLD), image("a", "f", OLD))
    )
    return matrix, store, build_catalogue(matrix, store, cache, sources)


def test_each_environment_is_listed_once_per_variant(catalogue) -> None:
    _, _, document = catalogue
    jsonschema.validate(document, SCHEMA)
    assert document["release"] == TAG and document["releases"] == {"bookworm": TAG, "old": OLD}
    found = {e["id"]: e for e in document["environments"]}
    assert list(found) == ["base:bookworm", "base:old", "a:bookworm", "a:old", "c:bookworm"]
    assert found["a:old"]["variant"] == "old" and not found["a:old"]["default_variant"]
    assert found["a:old"]["debian_suite"] == "oldstable"
    assert found["a:old"]["digest"] == "sha256:" + "f" * 64 and found["a:old"]["release"] == OLD
    assert found["a:bookworm"]["default_variant"] and found["a:bookworm"]["server_name"] == (
        "a-bookworm"
    )
    index = CatalogueIndex.of(document)
    assert [e["id"] for e in index.environments(EnvironmentQuery(variant="old"))] == [
        "base:old",
        "a:old",
    ]


def test_a_workflow_is_runnable_in_its_own_variant(catalogue) -> None:
    _, _, document = catalogue
    flows = {w["name"]: w for w in document["workflows"]}
    assert {n: (w["environment_id"], w["runnable"]) for n, w in flows.items()} == {
        "look": ("a:bookworm", True),
        "look-old": ("a:old", True),
        "look-c": ("c:bookworm", True),
    }
    assert [p["digest"] for p in flows["look-old"]["passed"]] == ["sha256:" + "f" * 64]
    index = CatalogueIndex.of(document)
    assert [w["name"] for w in index.workflows(WorkflowQuery(variant="old"))] == ["look-old"]
    assert [w["name"] for w in index.workflows(WorkflowQuery(environment="a:old"))] == ["look-old"]


def test_a_new_release_of_one_variant_is_not_proven_for_it(project, catalogue) -> None:
    """old's next build (other digests) has no pass yet: its workflow is not runnable; the
    default variant's workflows still are."""
    matrix, cache = project
    _, store, _ = catalogue
    newer = "python-3.9-2026-12-04-def5678"
    store.add_to_history(release("old", newer, image("base", "1", newer), image("a", "2", newer)))
    document = build_catalogue(matrix, store, cache, prepare_sources(matrix, cache))
    flows = {w["name"]: w for w in document["workflows"]}
    assert not flows["look-old"]["runnable"]
    assert flows["look-old"]["reason"].startswith("not proven on sha256:222222222222")
    assert flows["look"]["runnable"] and flows["look-c"]["runnable"]
    assert document["releases"]["old"] == newer


def test_the_catalogue_of_some_variants(project, catalogue) -> None:
    matrix, cache = project
    _, store, _ = catalogue
    files = write_catalogue(matrix, store, cache, prepare_sources(matrix, cache), ["old"])
    document = json.loads(files.document.read_text())
    assert [e["id"] for e in document["environments"]] == ["base:old", "a:old"]
    flows = {w["name"]: w for w in document["workflows"]}
    assert flows["look-old"]["runnable"] and not flows["look"]["runnable"]
    assert flows["look"]["reason"] == "environment a has no release in variant bookworm"


def test_the_spawn_query_chooses_the_image_and_variant_in_both_spawners(
    catalogue, tmp_path: Path
) -> None:
    """What a launch link passes to the hub's spawn page, as the real spawners read it from
    the profiles written for the same releases."""
    matrix, store, document = catalogue
    releases = current_releases(store.history(), matrix.default_variant.name)
    write_profiles(matrix, releases, tmp_path / "profiles", TRUST)
    docker = load_dockerspawner(tmp_path / "profiles" / DOCKERSPAWNER_FILE)
    profiles = profile_list((tmp_path / "profiles" / Z2JH_FILE).read_text())

    async def kube(query: dict[str, str]) -> str:
        spawner = KubeSpawner(_mock=True, profile_list=profiles)
        spawner.user_options = spawner.options_from_query({k: [v] for k, v in query.items()})
        await spawner.load_user_options()
        return str(spawner.image)

    for environment in document["environments"]:
        query = {k: [v] for k, v in environment["spawn"].items()}
        options = docker.options_from_query(query)
        assert asyncio.run(docker.check_allowed(options["image"])) == environment["image"]
        assert asyncio.run(kube(environment["spawn"])) == environment["image"]


def test_an_environment_lists_the_findings_its_image_was_signed_with(project, catalogue) -> None:
    """The audit record the release signed (publish.trust.attest) reaches the catalogue: each
    finding, accepted ones with the site's reason and date; an unaudited image has none."""
    matrix, cache = project
    _, store, _ = catalogue
    fixed = Finding("GHSA-aaaa", "pypi", "astropy", "7.1.0", ("7.1.1",))
    pending = Finding("debian:openssl=3.0.18-1~deb12u1", "debian", "openssl", "3.0.17-1", ())
    acceptance = Acceptance("GHSA-aaaa", "not reachable from a session", datetime.date(2027, 1, 31))
    audit = ImageAudit("a", "old", (fixed, pending), ((fixed, acceptance),), (pending,), (), ())
    write_json(audit_record(store.release_dir(OLD), "a"), audit.predicate(True, False))
    document = build_catalogue(matrix, store, cache, prepare_sources(matrix, cache))
    jsonschema.validate(document, SCHEMA)
    found = {e["id"]: e["findings"] for e in document["environments"]}
    assert [(f["id"], f["package"], f["fixed"]) for f in found["a:old"]] == [
        ("GHSA-aaaa", "astropy", ["7.1.1"]),
        ("debian:openssl=3.0.18-1~deb12u1", "openssl", []),
    ]
    assert found["a:old"][0]["accepted"]["expires"] == "2027-01-31"
    assert found["a:old"][1]["accepted"] is None
    assert found["a:bookworm"] == [] and found["base:old"] == []
