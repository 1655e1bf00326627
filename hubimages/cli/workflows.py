"""Commands of workflows (docs/workflows.md): `invoke workflows` runs them headless on the
built images (each in its variant), `invoke catalogue` writes the catalogue of a registry's
releases (every variant); and what `invoke hub` adds to the hub to serve it."""

from __future__ import annotations

from pathlib import Path

from invoke.exceptions import Exit

from hubimages.builder.run import BuildRun
from hubimages.builder.scheduler import build_images, failed
from hubimages.cli import report
from hubimages.cli.building import start_runs
from hubimages.cli.common import registry_target
from hubimages.errors import HubImagesError
from hubimages.model.project import ALL_VARIANTS, Project, open_project, open_variants
from hubimages.model.spec import Matrix
from hubimages.model.workflow_spec import WorkflowSpec
from hubimages.publish.catalogue import CatalogueFiles, write_catalogue
from hubimages.publish.store import ReleaseStore
from hubimages.services.catalogue.hubconfig import Access, CatalogueService
from hubimages.verify.workflow_results import WorkflowRecord
from hubimages.verify.workflow_source import WorkflowSource, prepare_sources
from hubimages.verify.workflows import WorkflowContext, prove_workflows


def run_workflows(
    names: list[str], retest: bool, matrix_path: str | None, variants: list[str]
) -> None:
    """The named workflows (all by default), each in its variant on its environment's image,
    built first; --variant: only the workflows of those variants."""
    projects = open_variants(matrix_path, variants or [ALL_VARIANTS])
    matrix, cache = projects[0].matrix, projects[0].cache
    for name in names:
        if name not in matrix.workflows:
            known = ", ".join(matrix.workflows) or "none"
            raise HubImagesError(f"no workflow {name!r} in build-matrix.yaml; known: {known}")
    chosen = set(names or matrix.workflows)
    sources = prepare_sources(matrix, cache)  # before any build
    plan = [
        (p, [w for w in p.matrix.variant_workflows.values() if w.name in chosen]) for p in projects
    ]
    plan = [(p, specs) for p, specs in plan if specs]
    if not plan:
        where = ", ".join(f"{n} ({matrix.workflows[n].variant})" for n in sorted(chosen))
        raise HubImagesError(
            f"no workflow runs in variant {', '.join(p.variant.name for p in projects)}: "
            f"{where or 'none declared'}; choose its variant with --variant"
        )
    records: list[WorkflowRecord] = []
    for run, (_, specs) in zip(start_runs([p for p, _ in plan]), plan, strict=True):
        records += _prove(run, sources, specs, retest)
    print(workflow_table(records, cache.workflow_runs))
    if not all(r.passed for r in records):
        raise Exit(code=1)


def _prove(
    run: BuildRun, sources: dict[str, WorkflowSource], specs: list[WorkflowSpec], retest: bool
) -> list[WorkflowRecord]:
    """The workflows of one variant, each on its environment's image there (built first)."""
    environments = list(dict.fromkeys(w.environment for w in specs))
    results = build_images(run, environments)
    if failed(results):
        bad = failed(results)[0]
        raise HubImagesError(f"the build of {bad.name} ({bad.variant}) failed: {bad.reason}")
    ids = {r.name: r.image_id or "" for r in results}
    context = WorkflowContext(run.client, run.matrix, run.cache, sources)
    wanted = {w.name for w in specs}
    return [
        record
        for environment in environments
        for record in prove_workflows(context, environment, ids[environment], retest)
        if record.workflow in wanted
    ]


def catalogue(registry: str, matrix_path: str | None, variants: list[str]) -> None:
    project = open_project(matrix_path)
    files = write_project_catalogue(project, registry, variants)
    print(
        f"catalogue of {files.environments} environments and {files.workflows} workflows "
        f"({files.runnable} runnable):\n  {files.document}\n  {files.page}\n  {files.schema}"
    )


def write_project_catalogue(
    project: Project, registry: str, variants: list[str] | None = None
) -> CatalogueFiles:
    """The catalogue of every variant released to the registry, or of --variant's."""
    offered = [p.variant.name for p in project.variants(variants or [ALL_VARIANTS])]
    target = registry_target(project, registry, recorded=True)
    store = ReleaseStore(project.cache.publish(target.slug))
    sources = prepare_sources(project.matrix, project.cache)
    return write_catalogue(project.matrix, store, project.cache, sources, offered)


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
    rows = [
        ("workflow", "environment", "variant", "image", "result", "seconds", "executed notebooks")
    ]
    for r in records:
        result = "passed" if r.passed else f"FAILED: {r.failure}"
        rows.append(
            (
                r.workflow,
                r.environment,
                r.variant,
                r.image_id[7:19],
                result,
                f"{r.seconds:.0f}",
                str(runs / r.executed),
            )
        )
    return report.table(rows)
