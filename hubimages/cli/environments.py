"""`invoke repo2docker`: a scientist's repository built onto a platform image, by hand."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from hubimages.builder.scheduler import build_variants
from hubimages.builder.userenv.build import render_environment
from hubimages.builder.userenv.source import is_remote
from hubimages.cli.building import checked, finish, start_runs
from hubimages.errors import HubImagesError
from hubimages.model.project import Project
from hubimages.model.spec import IMAGE_NAME, ImageSpec, Matrix, Repository


def default_name(repo: str) -> str:
    last = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    name = re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-._")
    if not IMAGE_NAME.match(name):
        raise HubImagesError(f"{repo}: cannot make an image name of it: give --name NAME")
    return name


def with_environment(
    loaded: Matrix, repo: str, on: str, name: str, ref: str, subdir: str
) -> Matrix:
    """The matrix and one more environment, as if build-matrix.yaml declared it."""
    if loaded.image(on).environment:
        raise HubImagesError(f"--on {on}: a community environment; give a platform image")
    if name in loaded.images:
        raise HubImagesError(
            f"--name {name}: build-matrix.yaml already has an image of that name; choose another"
        )
    if not IMAGE_NAME.match(name):
        raise HubImagesError(f"--name {name!r}: use lowercase letters, digits and . _ -")
    url = repo if is_remote(repo) else str(Path(repo).resolve())
    spec = ImageSpec(
        name=name,
        display_name=name,
        description=f"{repo} on {on}",
        parent=on,
        repository=Repository(url, ref, subdir),
        folder=loaded.images_folder / name,
    )
    return replace(loaded, images={**loaded.images, name: spec})


def repo2docker(
    repo: str,
    on: str,
    name: str,
    ref: str,
    subdir: str,
    no_build: bool,
    force: bool,
    matrix_path: str | None,
    variants: list[str],
) -> None:
    """The repository on the platform image in each variant --variant names (the default
    variant when none)."""
    started = time.monotonic()
    if not on:
        raise HubImagesError("--on IMAGE is missing: the platform image to build on")
    name = name or default_name(repo)
    projects = [
        Project(with_environment(p.matrix, repo, on, name, ref, subdir), p.cache)
        for p in checked(matrix_path, [on], variants)
        if on in p.matrix.images
    ]
    if no_build:
        for project in projects:
            print(render_environment(project.matrix, name, project.cache), end="")
        return
    runs = start_runs(projects, forced=[name] if force else [])
    results = build_variants(runs, [name])
    finish(runs, results, started)
    for project in projects:
        print(f"image ({project.variant.name}): {project.matrix.local_ref(name)}")
