"""Commands that publish and plan: release, push, profiles, history, diff, affected, registry."""

from __future__ import annotations

from invoke.exceptions import Exit

from hubimages.ci.affected import affected_images, changed_since
from hubimages.ci.github import github_outputs
from hubimages.cli import report
from hubimages.cli.building import checked, start_run
from hubimages.cli.common import append_github_output, registry_target
from hubimages.model.lineage import build_order
from hubimages.model.project import Project, open_project
from hubimages.publish.diff import diff_inventories
from hubimages.publish.release import (
    Publisher,
    inventory_of,
    profiles_for,
    publish_release,
    release_images,
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
    allow_unaudited: bool = False,
) -> None:
    project = checked(matrix_path, names)
    target = publisher(project, registry, retries, dirty=dirty, allow_unaudited=allow_unaudited)
    done = release_images(start_run(project), target, names, retest=retest, jobs=jobs)
    print(report.release_summary(done))


def push(
    names: list[str],
    registry: str,
    retries: int,
    dirty: bool,
    matrix_path: str | None,
    allow_unaudited: bool = False,
) -> None:
    project = checked(matrix_path, names)
    done = publish_release(
        publisher(project, registry, retries, dirty=dirty, allow_unaudited=allow_unaudited),
        build_order(project.matrix, names or None),
    )
    print(report.release_summary(done))


def profiles(registry: str, release_tag: str | None, matrix_path: str | None) -> None:
    for path in profiles_for(
        publisher(open_project(matrix_path), registry, recorded=True), release_tag
    ):
        print(path)


def history(registry: str, remote: bool, matrix_path: str | None) -> None:
    releases = releases_of(publisher(open_project(matrix_path), registry, recorded=True), remote)
    for line in report.history_lines(releases):
        print(line)


def diff(name: str, old: str, new: str, registry: str, matrix_path: str | None) -> None:
    target = publisher(checked(matrix_path, [name]), registry, recorded=True)
    changes = diff_inventories(inventory_of(target, name, old), inventory_of(target, name, new))
    print(report.format_diff(name, old, new, changes))


def affected(since: str, every: bool, github_output: bool, matrix_path: str | None) -> None:
    loaded = open_project(matrix_path).matrix
    if every:
        names = build_order(loaded)
    elif since:
        changed, old = changed_since(loaded.root, since)
        names = affected_images(loaded, changed, old)
    else:
        raise Exit("error: give --since REF or --all", code=1)
    print("\n".join(names) if names else "(no image affected)")
    if github_output:
        append_github_output(github_outputs(loaded, names))


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
