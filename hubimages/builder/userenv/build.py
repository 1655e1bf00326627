"""One community environment in a build run: up to date, or built with repo2docker and tagged.

Up to date means the same commit (or folder contents), the same platform image and the same
build recipe: the input hash label decides, as for the platform images.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path

import docker.errors
import repo2docker
from repo2docker.app import Repo2Docker
from repo2docker.buildpacks.base import BuildPack
from repo2docker.contentproviders import Local
from repo2docker.engine import ContainerEngineException
from traitlets.config import Config

from hubimages import RECIPE_VERSION
from hubimages.builder import labels as label
from hubimages.builder.freshness import why_build
from hubimages.builder.image import ServerSource, tag_image, who
from hubimages.builder.run import BuildResult, BuildRun, BuildStatus
from hubimages.builder.userenv.buildpacks import Plan, bound_buildpacks, render
from hubimages.builder.userenv.config import RepoConfig, check_dockerfile, read_config
from hubimages.builder.userenv.engine import EngineContext, engine_context
from hubimages.builder.userenv.requirements import Resolved, Resolver
from hubimages.builder.userenv.source import Checkout, check_out
from hubimages.core.cache import CacheLayout
from hubimages.deps.lockfile import load_lock
from hubimages.errors import HubImagesError
from hubimages.model.spec import ImageSpec, Matrix

log = logging.getLogger(__name__)

ENVIRONMENT_LABELS = {
    "repository": "org.skahub.environment.repository",
    "ref": "org.skahub.environment.ref",
    "commit": "org.skahub.environment.commit",
}


def environment_inputs(spec: ImageSpec, checkout: Checkout, parent_id: str) -> str:
    """What makes an environment's image: its content, its platform image, our recipe."""
    data = {
        "recipe": RECIPE_VERSION,
        "repo2docker": repo2docker.__version__,
        "content": checkout.commit or checkout.content_id,
        "parent": parent_id,
        "subdir": spec.repository.subdir if spec.repository else "",
        "name": spec.name,
        "display_name": spec.display_name,
        "description": spec.description,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def checked_config(spec: ImageSpec, checkout: Checkout, python: str) -> RepoConfig:
    """The repository's configuration; its errors name the environment and the repository."""
    try:
        config = read_config(checkout.path, python)
        check_dockerfile(config)
    except HubImagesError as exc:
        raise HubImagesError(f"{spec.name} ({checkout.url}): {exc}") from None
    return config


def build_environment(
    run: BuildRun, name: str, results: dict[str, BuildResult], servers: ServerSource
) -> BuildResult:
    spec = run.matrix.image(name)
    started = time.monotonic()
    parent_id = results[spec.parent or ""].image_id or ""
    build_tag = ""
    try:
        with tempfile.TemporaryDirectory(prefix="hubimages-environment-") as work:
            assert spec.repository is not None
            checkout = check_out(spec.repository, run.matrix.root, run.cache, Path(work))
            config = checked_config(spec, checkout, run.matrix.settings.python)
            inputs = environment_inputs(spec, checkout, parent_id)
            reason = why_build(run, spec, inputs, results)
            if reason is None:
                return _up_to_date(run, name, inputs, started)
            log.info(
                "[%s] building %s at %s: %s",
                who(run, name),
                checkout.url,
                checkout.content_id,
                reason,
            )
            build_tag = f"{run.matrix.repository(name)}:building-{inputs[:12]}"
            image_id = _build(
                run, spec, checkout, config, inputs, parent_id, servers, started, build_tag
            )
            commit_tag = run.matrix.variant.tag(checkout.tag)
            tags = [*tag_image(run, spec, image_id, run.provenance), commit_tag]
            run.client.images.get(image_id).tag(run.matrix.repository(name), commit_tag)
    except HubImagesError as exc:
        log.error("[%s] failed after %.0fs: %s", who(run, name), time.monotonic() - started, exc)
        status = BuildStatus.INTERRUPTED if run.cancel.is_set() else BuildStatus.FAILED
        return BuildResult(name, status, str(exc), seconds=time.monotonic() - started)
    finally:
        if build_tag:
            _untag(run, build_tag)
    size = int(run.client.images.get(image_id).attrs["Size"])
    seconds = time.monotonic() - started
    log.info("[%s] built in %.0fs, %d MB", who(run, name), seconds, size // 10**6)
    return BuildResult(name, BuildStatus.BUILT, reason, image_id, tags, size, seconds)


def _up_to_date(run: BuildRun, name: str, inputs: str, started: float) -> BuildResult:
    image = run.client.images.get(run.matrix.local_ref(name))
    log.info("[%s] up to date (inputs %s)", who(run, name), inputs[:12])
    prefix = f"{run.matrix.repository(name)}:"
    return BuildResult(
        name,
        BuildStatus.UP_TO_DATE,
        "inputs unchanged",
        str(image.id),
        [t.removeprefix(prefix) for t in image.tags if t.startswith(prefix)],
        int(image.attrs["Size"]),
        time.monotonic() - started,
    )


def platform_plan(run: BuildRun, config: RepoConfig, parent_id: str, locked: bool) -> Plan:
    """The platform image's user, home, entrypoint and command, as the image says."""
    attrs = run.client.images.get(parent_id).attrs["Config"]
    env = dict(item.split("=", 1) for item in attrs.get("Env") or [])
    return Plan(
        config=config,
        base_image=parent_id,
        user=env.get("NB_USER", "jovyan"),
        uid=int(env.get("NB_UID", 1000)),
        gid=int(env.get("NB_GID", 100)),
        home=env.get("HOME", "/home/jovyan"),
        entrypoint=tuple(attrs.get("Entrypoint") or ()),
        cmd=tuple(attrs.get("Cmd") or ()),
        locked=locked,
    )


def _build(
    run: BuildRun,
    spec: ImageSpec,
    checkout: Checkout,
    config: RepoConfig,
    inputs: str,
    parent_id: str,
    servers: ServerSource,
    started: float,
    build_tag: str,
) -> str:
    resolved = _resolve(run, spec, config) if config.dockerfile is None else None
    server, network = servers()
    build_args = {"DEBIAN_PACKAGES": " ".join(config.apt_packages), "APT_PROXY": server.apt_proxy}
    if resolved is not None:
        server.add(spec.name, resolved.lock.text, resolved.wheels)
        build_args.update(
            {
                "WHEELHOUSE_URL": server.wheels_url,
                "LOCK_URL": server.lock_url(spec.name),
                "LOCK_SHA256": resolved.lock.sha256,
            }
        )
    platform_lock = load_lock(run.matrix, spec.parent or "")
    labels = label.image_labels(
        spec,
        run.matrix.variant,
        inputs,
        run.matrix.local_ref(spec.parent or ""),
        parent_id,
        run.provenance,
        platform_lock,
    )
    labels.update(
        {
            label.SOURCE: checkout.url,
            ENVIRONMENT_LABELS["repository"]: checkout.url,
            ENVIRONMENT_LABELS["ref"]: checkout.ref,
            ENVIRONMENT_LABELS["commit"]: checkout.commit,
        }
    )
    context = EngineContext(
        run.client, checkout.url, network, build_args, labels, run.cancel, started
    )
    plan = platform_plan(run, config, parent_id, locked=resolved is not None)
    _run_repo2docker(run, spec, checkout, plan, context, labels, build_tag)
    return context.image_id


def _untag(run: BuildRun, ref: str) -> None:
    """repo2docker's own tag for the build: the image keeps its real tags."""
    try:
        run.client.images.remove(ref, noprune=True)
    except docker.errors.APIError:
        pass  # no such tag: the build failed before making it


def _resolve(run: BuildRun, spec: ImageSpec, config: RepoConfig) -> Resolved | None:
    resolver = Resolver(
        run.matrix.settings,
        run.index,
        run.catalog,
        run.cache.wheels,
        run.cache.environment(spec.name),
    )
    return resolver.resolve(config, spec.name, load_lock(run.matrix, spec.parent or ""))


def _run_repo2docker(
    run: BuildRun,
    spec: ImageSpec,
    checkout: Checkout,
    plan: Plan,
    context: EngineContext,
    labels: dict[str, str],
    build_tag: str,
) -> None:
    buildpacks = bound_buildpacks(plan)
    with engine_context(context) as key:
        _repo2docker(run, spec, checkout, plan, buildpacks, key, labels, build_tag)
    if not context.image_id:
        raise HubImagesError(f"environment {spec.name}: repo2docker built nothing")


def _repo2docker(
    run: BuildRun,
    spec: ImageSpec,
    checkout: Checkout,
    plan: Plan,
    buildpacks: list[type[BuildPack]],
    key: str,
    labels: dict[str, str],
    build_tag: str,
) -> None:
    app = Repo2Docker(
        config=Config({"HubImagesEngine": {"context_key": key}}),
        repo=str(checkout.path),
        ref=checkout.ref or None,
        engine="hubimages",
        base_image=plan.base_image,
        buildpacks=buildpacks,
        default_buildpack=buildpacks[-1],
        content_providers=[Local],
        user_id=plan.uid,
        user_name=plan.user,
        run=False,
        push=False,
        labels=labels,
        output_image_spec=build_tag,
    )
    try:
        app.build()
    except (ContainerEngineException, ValueError, RuntimeError, OSError) as exc:
        message = str(exc) or type(exc).__name__
        raise HubImagesError(f"environment {spec.name}: {message}") from None


def render_environment(matrix: Matrix, name: str, cache: CacheLayout) -> str:
    """The Dockerfile repo2docker would build, with no engine and no index: `--no-build`."""
    spec = matrix.image(name)
    with tempfile.TemporaryDirectory(prefix="hubimages-environment-") as work:
        assert spec.repository is not None
        checkout = check_out(spec.repository, matrix.root, cache, Path(work))
        config = checked_config(spec, checkout, matrix.settings.python)
        if config.dockerfile is not None:
            return config.dockerfile.read_text()
        plan = Plan(
            config=config,
            base_image=matrix.local_ref(spec.parent or ""),
            locked=config.requirements is not None or config.package,
        )
        return render(plan)
