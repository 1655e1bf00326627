"""The workflows of an environment in one variant, proven on the image under test: each run
headless unless it already passed at exactly this image id with the same inputs (`retest` runs
them again). A workflow runs in one variant (model/workflows.py): another variant's release of
the same environment does not run it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from docker import DockerClient

from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.model.workflow_spec import WorkflowSpec
from hubimages.verify.workflow_results import WorkflowRecord, passed_record
from hubimages.verify.workflow_run import run_inputs, run_workflow
from hubimages.verify.workflow_source import WorkflowSource

log = logging.getLogger(__name__)


class WorkflowFailedError(HubImagesError):
    pass


@dataclass(frozen=True)
class WorkflowContext:
    """What proving workflows needs besides the image: the engine, the project, the sources."""

    client: DockerClient
    matrix: Matrix
    cache: CacheLayout
    sources: dict[str, WorkflowSource]


def workflows_of(matrix: Matrix, environment: str) -> list[WorkflowSpec]:
    """The workflows of the environment in the matrix's variant."""
    return [w for w in matrix.variant_workflows.values() if w.environment == environment]


def prove_workflows(
    context: WorkflowContext, environment: str, image_id: str, retest: bool = False
) -> list[WorkflowRecord]:
    """Every workflow of the environment, run or found passed at this image id; in order."""
    records = []
    where = f"{environment} {context.matrix.variant.name}"  # as the builder's logs say it
    for spec in workflows_of(context.matrix, environment):
        source = context.sources[spec.name]
        inputs = run_inputs(context.matrix, spec, source)
        record = (
            None
            if retest
            else passed_record(context.cache.workflow_runs, spec.name, image_id, inputs)
        )
        if record is not None:
            log.info(
                "[%s] workflow %s already passed at image %s",
                where,
                spec.name,
                image_id[7:19],
            )
        else:
            record = run_workflow(
                context.client, context.matrix, context.cache, spec, source, image_id
            )
            log.info(
                "[%s] workflow %s %s in %.0fs%s",
                where,
                spec.name,
                "passed" if record.passed else "FAILED",
                record.seconds,
                f": {record.failure}" if record.failure else "",
            )
        records.append(record)
    return records


def failures_message(
    environment: str, variant: str, records: list[WorkflowRecord], runs: str
) -> str:
    """One line: the environment and variant, then each failed workflow with its notebook and
    cell."""
    failed = [f"workflow {r.workflow!r} failed: {r.failure}" for r in records if not r.passed]
    return f"{environment} ({variant}): {'; '.join(failed)} (executed notebooks in {runs})"
