"""Build one image: decide, fetch its wheels, build its recipe folders, label and tag it."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from hubimages.builder.dirty import uncommitted_inputs
from hubimages.builder.engine import local_tags
from hubimages.builder.freshness import why_build
from hubimages.builder.inputs import input_hash
from hubimages.builder.labels import Provenance, image_labels
from hubimages.builder.parents import Parent, parent_image_id, parent_of
from hubimages.builder.probe import ImageContents, probe
from hubimages.builder.rootfs import debian_packages
from hubimages.builder.run import BuildResult, BuildRun, BuildStatus
from hubimages.builder.stream import BuildRequest, stream_build
from hubimages.builder.tagging.taggers import ImageFacts
from hubimages.builder.tagging.tags import compute_tags
from hubimages.deps.lockfile import Lock, load_lock
from hubimages.deps.server import WheelServer
from hubimages.deps.wheelhouse import fetch
from hubimages.errors import HubImagesError
from hubimages.model.lineage import recipe
from hubimages.model.spec import ImageSpec, Matrix

log = logging.getLogger(__name__)

ServerSource = Callable[[], tuple[WheelServer, str]]  # the running server and its network


class BuildInterruptedError(HubImagesError):
    """The run was cancelled (Ctrl-C) while this image was being built."""


def who(run: BuildRun, name: str) -> str:
    """How the log names an image: with its variant (a run may build several)."""
    return f"{name} {run.matrix.variant.name}"


def build_one(
    run: BuildRun, name: str, results: dict[str, BuildResult], servers: ServerSource
) -> BuildResult:
    spec = run.matrix.image(name)
    started = time.monotonic()
    parent = parent_of(run, spec, results)
    dirty = uncommitted_inputs(run.matrix, name)
    provenance = run.provenance.as_dirty() if dirty else run.provenance
    inputs = input_hash(run.matrix, name, parent.token, dirty=bool(dirty))
    reason = why_build(run, spec, inputs, results)
    if reason is None:
        image = run.client.images.get(run.matrix.local_ref(name))
        log.info("[%s] up to date (inputs %s)", who(run, name), inputs[:12])
        return BuildResult(
            name,
            BuildStatus.UP_TO_DATE,
            "inputs unchanged",
            str(image.id),
            local_tags(image, run.matrix.repository(name)),
            int(image.attrs["Size"]),
            time.monotonic() - started,
        )
    log.info(
        "[%s] building: %s%s",
        who(run, name),
        reason,
        f" (uncommitted: {', '.join(dirty[:3])}{' ...' if len(dirty) > 3 else ''})"
        if dirty
        else "",
    )
    try:
        image_id = _build(run, spec, parent, inputs, provenance, servers, started)
        _check_cancel(run)
        tags = tag_image(run, spec, image_id, provenance)
    except BuildInterruptedError:
        log.warning(
            "[%s] interrupted after %.0fs: no tag moved", who(run, name), time.monotonic() - started
        )
        return BuildResult(
            name,
            BuildStatus.INTERRUPTED,
            "interrupted (Ctrl-C)",
            seconds=time.monotonic() - started,
        )
    except HubImagesError as exc:
        log.error("[%s] failed after %.0fs: %s", who(run, name), time.monotonic() - started, exc)
        return BuildResult(name, BuildStatus.FAILED, str(exc), seconds=time.monotonic() - started)
    size = int(run.client.images.get(image_id).attrs["Size"])
    seconds = time.monotonic() - started
    log.info("[%s] built in %.0fs, %d MB", who(run, name), seconds, size // 10**6)
    return BuildResult(name, BuildStatus.BUILT, reason, image_id, tags, size, seconds)


def _check_cancel(run: BuildRun) -> None:
    if run.cancel.is_set():
        raise BuildInterruptedError("interrupted")


def _build(
    run: BuildRun,
    spec: ImageSpec,
    parent: Parent,
    inputs: str,
    provenance: Provenance,
    servers: ServerSource,
    started: float,
) -> str:
    lock = load_lock(run.matrix, spec.name)
    folders = recipe(run.matrix, spec.name)
    server, network = _serve(run, lock, folders, servers)
    _check_cancel(run)
    current = parent_image_id(run, spec, parent)
    labels = image_labels(spec, run.matrix.variant, inputs, parent.name, current, provenance, lock)
    for index, folder in enumerate(folders, 1):
        _check_cancel(run)
        final = index == len(folders)
        label = who(run, spec.name if len(folders) == 1 else f"{spec.name}/{folder.name}")
        log.info(
            "[%s] recipe %d/%d: images/%s on %s",
            who(run, spec.name),
            index,
            len(folders),
            folder.name,
            current[7:19],
        )
        args = {**build_args(folder, server, lock), "PARENT_IMAGE": current}
        request = BuildRequest(
            f"images/{folder.name}",
            label,
            args,
            network,
            labels if final else {},
            folder=folder.folder,
        )
        try:
            current = stream_build(run.client, request, run.cancel, started)
        except HubImagesError:
            _check_cancel(run)  # a step killed by the cancel is an interruption
            raise
    return current


def _serve(
    run: BuildRun, lock: Lock, folders: list[ImageSpec], servers: ServerSource
) -> tuple[WheelServer, str]:
    """Fetch the image's locked wheels; add them, the lock and the build files to the server."""
    t0 = time.monotonic()
    wheels = fetch(lock, run.matrix.settings, run.cache.wheels, run.index, run.catalog)
    log.info(
        "[%s] %d locked wheels ready in %.1fs",
        who(run, lock.image),
        len(wheels),
        time.monotonic() - t0,
    )
    server, network = servers()
    server.add(
        lock.image, lock.text, wheels, {f.name: run.matrix.build_files(f.name) for f in folders}
    )
    return server, network


def build_args(folder: ImageSpec, server: WheelServer, lock: Lock) -> dict[str, str]:
    """The build arguments of one recipe folder (images/README.md); the optional ones only
    when its Dockerfile declares them, so the engine does not warn about unused ones."""
    args = {
        "WHEELHOUSE_URL": server.wheels_url,
        "LOCK_URL": server.lock_url(lock.image),
        "LOCK_SHA256": lock.sha256,
    }
    declared = set(
        re.findall(r"^\s*ARG\s+(\w+)", (folder.folder / "Dockerfile").read_text(), re.MULTILINE)
    )
    if "BUILD_FILES_URL" in declared:
        args["BUILD_FILES_URL"] = server.files_url(folder.name)
    if "DEBIAN_PACKAGES" in declared:
        args["DEBIAN_PACKAGES"] = " ".join(debian_packages(folder))
    if "APT_PROXY" in declared:
        args["APT_PROXY"] = server.apt_proxy
    return args


def check_variant(matrix: Matrix, name: str, contents: ImageContents) -> None:
    """The matrix says which Python and glibc a variant has: the image must agree, or its
    locks were resolved for another interpreter."""
    variant = matrix.variant
    key = f"variants.{variant.name}"
    python = ".".join(contents.python.split(".")[:2])
    if python != variant.python:
        raise HubImagesError(
            f"{matrix.path.name}: {key}.python is {variant.python!r}, but {name} has Python "
            f"{contents.python} (Debian {variant.suite}'s python3): set it to {python!r}"
        )
    glibc = ".".join(contents.glibc.split(".")[:2])
    if glibc and glibc != variant.glibc:
        raise HubImagesError(
            f"{matrix.path.name}: {key}.glibc is {variant.glibc!r}, but {name} has glibc "
            f"{contents.glibc}: set it to {glibc!r}"
        )


def tag_image(run: BuildRun, spec: ImageSpec, image_id: str, provenance: Provenance) -> list[str]:
    """Apply the tag rules to what the built image holds (asked once per image id), once it
    is known to hold the variant's Python and glibc."""
    contents = probe(run.client, image_id, run.cache.probes)
    check_variant(run.matrix, spec.name, contents)
    facts = ImageFacts(
        python=contents.python,
        variant=run.matrix.variant,
        packages=contents.python_packages,
        release_tag=provenance.release_tag,
    )
    tags = compute_tags(spec, facts)
    image = run.client.images.get(image_id)
    for tag in tags:
        image.tag(run.matrix.repository(spec.name), tag)
    return tags
