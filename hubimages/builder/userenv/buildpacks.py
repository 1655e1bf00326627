"""Our repo2docker buildpacks: a repository layered on a platform image, the way Binder does it.

repo2docker's own buildpacks install conda and use BuildKit-only syntax; these write a
classic-builder Dockerfile on top of the platform image instead: apt.txt through the build
tool's Debian proxy (`install-debian-packages`), the host-resolved lock with
`install-locked-requirements` (hashes required, no index), the repository's files into the home
(REPO_DIR, set in the image with the PATH entries repo2docker's images have), `postBuild` run
as the user there, and `start` run as a wrapper after the image's own start script. A
repository with its own Dockerfile is built as written, with the platform image given as the
build argument BASE_IMAGE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from repo2docker.buildpacks.base import BuildPack
from repo2docker.buildpacks.docker import DockerBuildPack

from hubimages.builder.userenv.config import RepoConfig

# The platform images' runtime contract (images/base/Dockerfile): what an image without a
# readable config (a render with no engine) is assumed to have.
CONTRACT_ENTRYPOINT = ("tini", "-g", "--", "start.sh")
CONTRACT_CMD = ("start-notebook.py",)


@dataclass(frozen=True)
class Plan:
    """What the buildpacks need to know about the repository and the platform image."""

    config: RepoConfig
    base_image: str  # the platform image's id (or reference, for a render)
    user: str = "jovyan"
    uid: int = 1000
    gid: int = 100
    home: str = "/home/jovyan"
    entrypoint: tuple[str, ...] = CONTRACT_ENTRYPOINT
    cmd: tuple[str, ...] = CONTRACT_CMD
    locked: bool = False  # a lock of Python requirements is served to the build


def render(plan: Plan, repo_dir: str = "") -> str:
    """The Dockerfile of a repository without its own: classic-builder syntax only."""
    config, repo_dir = plan.config, repo_dir or plan.home
    lines = [
        f"FROM {plan.base_image}",
        "USER 0",
        *(
            f"ARG {arg}"
            for arg in ("WHEELHOUSE_URL", "LOCK_URL", "LOCK_SHA256", "DEBIAN_PACKAGES", "APT_PROXY")
        ),
        f"ARG REPO_DIR={repo_dir}",
    ]
    if config.apt_packages:
        lines.append("RUN install-debian-packages")
    if plan.locked:
        lines.append("RUN install-locked-requirements")
    # The home stays setgid and group-writable as in the platform image (any uid of its group).
    executables = [
        f'"${{REPO_DIR}}/{config.relative(p)}"'
        for p in (config.post_build, config.start)
        if p is not None
    ]
    lines += [
        # As repo2docker's images: REPO_DIR says where the repository is, and ~/.local/bin
        # (`pip install --user`, postBuild's tools) and the repository's .local/bin are on PATH.
        "ENV REPO_DIR=${REPO_DIR}",
        f"ENV PATH={plan.home}/.local/bin:${{REPO_DIR}}/.local/bin:${{PATH}}",
        f"COPY --chown={plan.uid}:{plan.gid} src/ ${{REPO_DIR}}/",
        'RUN chmod 2775 "${REPO_DIR}"'
        + (f" && chmod +x {' '.join(executables)}" if executables else ""),
        "WORKDIR ${REPO_DIR}",
        f"USER {plan.uid}",
    ]
    if config.post_build is not None:
        lines.append(f"RUN ./{config.relative(config.post_build)}")
    if config.start is not None:
        start = f"{repo_dir}/{config.relative(config.start)}"
        lines += [
            f"ENTRYPOINT {json.dumps([*plan.entrypoint, start])}",
            f"CMD {json.dumps(list(plan.cmd))}",
        ]
    return "\n".join(lines) + "\n"


class PlatformBuildPack(BuildPack):  # type: ignore[misc]
    """requirements.txt, apt.txt, postBuild, start, runtime.txt, a Python package."""

    plan: Plan  # set on the class bound to one build (bound_buildpacks)

    def detect(self) -> bool:
        return self.plan.config.dockerfile is None

    def render(self, build_args: dict[str, str] | None = None) -> str:
        return render(self.plan, (build_args or {}).get("REPO_DIR", ""))

    def build(
        self,
        client: Any,
        image_spec: str,
        memory_limit: int,
        build_args: dict[str, str],
        cache_from: list[str],
        extra_build_kwargs: dict[str, Any],
        platform: str | None = None,
    ) -> Iterator[Any]:
        # repo2docker writes labels into its own template; ours has none: the engine adds them.
        extra = {**extra_build_kwargs, "labels": dict(self.get_labels())}
        yield from super().build(
            client, image_spec, memory_limit, build_args, cache_from, extra, platform
        )


class PlatformDockerfileBuildPack(DockerBuildPack):  # type: ignore[misc]
    """binder/Dockerfile (or Dockerfile), built as written, FROM ${BASE_IMAGE}."""

    plan: Plan

    def build(
        self,
        client: Any,
        image_spec: str,
        memory_limit: int,
        build_args: dict[str, str],
        cache_from: list[str],
        extra_build_kwargs: dict[str, Any],
        platform: str | None = None,
    ) -> Iterator[Any]:
        args = {**build_args, "BASE_IMAGE": self.plan.base_image}
        yield from super().build(
            client, image_spec, memory_limit, args, cache_from, extra_build_kwargs, platform
        )


def bound_buildpacks(plan: Plan) -> list[type[BuildPack]]:
    """repo2docker instantiates buildpack classes itself: these carry the plan."""
    return [
        type("Dockerfile", (PlatformDockerfileBuildPack,), {"plan": plan}),
        type("Platform", (PlatformBuildPack,), {"plan": plan}),
    ]
