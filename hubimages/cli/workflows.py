"""Commands of workflows (docs/workflows.md): `invoke workflows` runs them headless on the
built images, `invoke catalogue` writes the catalogue of a registry's releases; and what
`invoke hub` adds to the hub to serve it."""

from __future__ import annotations

from pathlib import Path

from invoke.exceptions import Exit

from hubimages.builder.scheduler import build_images, failed
from hubimages.cli import report
from hubimages.cli.building import start_run
from hubimages.cli.common import registry_target
from hubimages.errors import HubImagesError
from hubimages.model.project import Project, open_project
from hubimages.model.spec import Matrix
from hubimages.publish.catalogue import CatalogueFiles, write_catalogue
from hubimages.publish.store import ReleaseStore
from hubimages.services.catalogue.hubconfig import Access, CatalogueService
from hubimages.verify.workflow_results import WorkflowRecord
from hubimages.verify.workflow_source import prepare_sources
from hubimages.verify.workflows import WorkflowContext, prove_workflows


def run_workflows(names: list[str], retest: bool, matrix_path: str | None) -> None:
    """The named workflows (all by default), each on its environment's image, built first."""
    project = open_project(matrix_path)
    matrix = project.matrix
    for name in names:
        if name not in matrix.workflows:
            known = ", ".join(matrix.workflows) or "none"
            raise HubImagesError(f"no workflow {name!r} in build-matrix.yaml; known: {known}")
    chosen = [matrix.workflows[n] for n in names or matrix.workflows]
    sources = prepare_sources(matrix, project.cache)  # before any build
    run = start_run(project)
    environments = list(dict.fromkeys(w.environment for w in chosen))
    results = build_images(run, environments)
    if failed(results):
        raise HubImagesError(f"the build failed: {failed(results)[0].reason}")
    ids = {r.name: r.image_id or "" for r in results}
    context = WorkflowContext(run.client, matrix, project.cache, sources)
    records: list[WorkflowRecord] = []
    for environment in environments:
        records += [
            r
            for r in prove_workflows(context, environment, ids[environment], retest)
            if r.workflow in {w.name for w in chosen}
        ]
    print(workflow_table(records, project.cache.workflow_runs))
    if not all(r.passed for r in records):
        raise Exit(code=1)


def catalogue(registry: str, matrix_path: str | None) -> None:
    project = open_project(matrix_path)
    files = write_project_catalogue(project, registry)
    print(
        f"catalogue of {files.environments} environments and {files.workflows} workflows "
        f"({files.runnable} runnable):\n  {files.document}\n  {files.page}\n  {files.schema}"
    )


def write_project_catalogue(project: Project, registry: str) -> CatalogueFiles:
    target = registry_target(project, registry, recorded=True)
    store = ReleaseStore(project.cache.publish(target.slug))
    sources = prepare_sources(project.matrix, project.cache)
    return write_catalogue(project.matrix, store, project.cache, sources)


def hub_service(project: Project, registry: str, access: str) -> CatalogueService:
    """The catalogue of the registry the hub offers, written now, and its service."""
    try:
        chosen = Access(access)
    except ValueError:
        raise HubImagesError(f"--catalogue {access!r}: choose public or login") from None
    files = write_project_catalogue(project, registry)
    return CatalogueService(
        files.document,
        project.cache.workflow_repositories,
        chosen,
        volumes=data_volumes(project.matrix),
    )


def data_volumes(matrix: Matrix) -> dict[str, dict[str, str]]:
    """Every workflow's data folders, read-only where it declared them (docker SDK volumes)."""
    return {
        str((matrix.root / folder.files).resolve()): {"bind": folder.at, "mode": "ro"}
        for workflow in matrix.workflows.values()
        for folder in workflow.folders
    }


def workflow_table(records: list[WorkflowRecord], runs: Path) -> str:
    rows = [("workflow", "environment", "image", "result", "seconds", "executed notebooks")]
    for r in records:
        result = "passed" if r.passed else f"FAILED: {r.failure}"
        rows.append(
            (
                r.workflow,
                r.environment,
                r.image_id[7:19],
                result,
                f"{r.seconds:.0f}",
                str(runs / r.executed),
            )
        )
    return report.table(rows)
