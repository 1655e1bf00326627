"""Which workflow passed on which digest: releases/<tag>/workflows.json, written with the
release record from the headless runs that passed at exactly the released image ids and with
the workflows' current inputs (a run of other notebooks proves nothing about these)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hubimages.core.cache import CacheLayout
from hubimages.core.files import write_json
from hubimages.model.spec import Matrix
from hubimages.publish.records import Release
from hubimages.publish.store import ReleaseStore
from hubimages.verify.workflow_results import passed_record
from hubimages.verify.workflow_run import run_inputs
from hubimages.verify.workflow_source import WorkflowSource


@dataclass(frozen=True)
class WorkflowPass:
    workflow: str
    environment: str
    variant: str
    release: str
    digest: str
    image_id: str
    commit: str
    inputs: str
    seconds: float
    finished: str
    uses: dict[str, str]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowPass:
        return cls(**{k: v for k, v in data.items() if k in cls.__annotations__})


def release_passes(
    matrix: Matrix, cache: CacheLayout, sources: dict[str, WorkflowSource], release: Release
) -> list[WorkflowPass]:
    """The workflows of the release's variant (the matrix as it sees it) that passed on its
    images."""
    passes = []
    for spec in matrix.variant_workflows.values():
        image = release.image(spec.environment)
        if image is None:
            continue
        inputs = run_inputs(matrix, spec, sources[spec.name])
        record = passed_record(cache.workflow_runs, spec.name, image.image_id, inputs)
        if record is None:
            continue
        passes.append(
            WorkflowPass(
                workflow=spec.name,
                environment=spec.environment,
                variant=spec.variant,
                release=release.tag,
                digest=image.digest,
                image_id=image.image_id,
                commit=record.commit,
                inputs=inputs,
                seconds=record.seconds,
                finished=record.finished,
                uses=record.uses,
            )
        )
    return passes


def write_passes(store: ReleaseStore, tag: str, passes: list[WorkflowPass]) -> None:
    write_json(store.workflows_file(tag), [p.__dict__ for p in passes])


def recorded_passes(store: ReleaseStore) -> list[WorkflowPass]:
    """Every pass of every recorded release, newest release first."""
    passes = []
    for release in store.history():
        path = store.workflows_file(release.tag)
        if path.is_file():
            passes += [WorkflowPass.from_dict(item) for item in json.loads(path.read_text())]
    return passes
