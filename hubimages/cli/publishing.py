"""Commands that publish and plan: release, push, profiles, history, diff, affected, registry."""

from __future__ import annotations

from invoke.exceptions import Exit

from hubimages.ci.affected import affected_images, changed_since
from hubimages.ci.github import github_outputs
from hubimages.cli import report
from hubimages.cli.building import checked, start_runs
from hubimages.cli.common import append_github_output, registry_target
from hubimages.model.lineage import build_order
from hubimages.model.project import ALL_VARIANTS, Project, open_project
from hubimages.publish.diff import diff_inventories
from hubimages.publish.publisher import Publisher
from hubimages.publish.release import (
    inventory_of,
    profiles_for,
    publish_variants,
    release_variants,
    releases_of,
)
from hubimages.publish.retry import RetryPolicy
from hubimages.services.localregistry import LocalRegistry


def publisher(
    project: Project,
    registry: str,
    retries: int = 4,
    recorded: bool = False,
    dirty: bool = False,
    allow_unaudited: bool = False,
) -> Publisher:
    return Publisher(
        project.matrix,
        project.cache,
        registry_target(project, registry, recorded),
        RetryPolicy(attempts=retries),
        allow_dirty=dirty,
        allow_unaudited=allow_unaudited,
    )


def release(
    names: list[str],
    registry: str,
    retries: int,
    retest: bool,
    jobs: int,
    dirty: bool,
    matrix_path: str | None,
    variants: list[str],
    allow_unaudited: bool = False,
) -> None:
    projects = checked(matrix_path, names, variants)
    runs = start_runs(projects)
    targets = [
        publisher(p, registry, retries, dirty=dirty, allow_unaudited=allow_unaudited)
        for p in projects
    ]
    pairs = list(zip(runs, targets, strict=True))
    for done in release_variants(pairs, names, retest=retest, jobs=jobs):
        print(report.release_summary(done))


def push(
    names: list[str],
    registry: str,
    retries: int,
    dirty: bool,
    matrix_path: str | None,
    variants: list[str],
    allow_unaudited: bool = False,
) -> None:
    """Every variant's images gated (tests, audit) before any variant is pushed."""
    targets, orders = [], []
    for project in checked(matrix_path, names, variants):
        wanted = [n for n in names if n in project.matrix.images] or None
        if names and wanted is None:
            continue  # none of the named images is built in this variant
        targets.append(
            publisher(project, registry, retries, dirty=dirty, allow_unaudited=allow_unaudited)
        )
        orders.append(build_order(project.matrix, wanted))
    for done in publish_variants(targets, orders):
        print(report.release_summary(done))


def profiles(
    registry: str, release_tag: str | None, matrix_path: str | None, variants: list[str]
) -> None:
    """Every variant's profiles unless --variant narrows them: the variant is a choice inside
    each image's profile."""
    projects = checked(matrix_path, [], variants or [ALL_VARIANTS])
    target = publisher(projects[0], registry, recorded=True)
    for path in profiles_for(target, release_tag, [p.variant.name for p in projects]):
        print(path)


def history(registry: str, remote: bool, matrix_path: str | None) -> None:
    releases = releases_of(publisher(open_project(matrix_path), registry, recorded=True), remote)
    for line in report.history_lines(releases):
        print(line)


def diff(name: str, old: str, new: str, registry: str, matrix_path: str | None) -> None:
    """Between any two releases of the image: of one variant, or of two (what changes from
    one variant to another)."""
    project = checked(matrix_path, [name], [ALL_VARIANTS])[0]
    target = publisher(project, registry, recorded=True)
    changes = diff_inventories(inventory_of(target, name, old), inventory_of(target, name, new))
    print(report.format_diff(name, old, new, changes))


def affected(
    since: str, every: bool, github_output: bool, matrix_path: str | None, variants: list[str]
) -> None:
    """Per variant (all unless --variant narrows them): what CI builds and tests."""
    views = [p.matrix for p in checked(matrix_path, [], variants or [ALL_VARIANTS])]
    if every:
        found = [(view, build_order(view)) for view in views]
    elif since:
        changed, old = changed_since(views[0].root, since)
        found = [(view, affected_images(view, changed, old)) for view in views]
    else:
        raise Exit("error: give --since REF or --all", code=1)
    for view, names in found:
        print(f"{view.variant.name}: {' '.join(names) if names else '(no image affected)'}")
    if github_output:
        append_github_output(github_outputs(found))


def registry(port: int, stop: bool) -> None:
    local = LocalRegistry(open_project().cache.registry(port), port=port)
    if stop:
        local.stop()
        print(f"stopped the registry on {local.host}")
    elif local.answers():
        print(f"a registry already answers on {local.host}")
    else:
        local.start()
        print(
            f"registry on {local.host} (storage {local.storage}); try: invoke release "
            f"--registry {local.host}/ska; stop: invoke registry --stop --port {port}"
        )
