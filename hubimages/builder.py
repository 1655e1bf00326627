"""Build images parents first, skip those whose inputs are unchanged, report what happened."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors
from docker import DockerClient

from hubimages import gitinfo
from hubimages.engine import build_network, image_or_none
from hubimages.errors import BuildFailedError, HubImagesError
from hubimages.inputs import INPUTS_LABEL, input_hash
from hubimages.locks import file_sha256, lock_path, read_lock
from hubimages.matrix import ImageSpec, Matrix
from hubimages.plan import build_order, stages
from hubimages.rootfs import ensure_root_image, rootfs_key
from hubimages.tags import compute_tags, read_facts
from hubimages.wheelhouse import WheelServer, fetch

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 25
# Read by `invoke profiles --release` from the registry, so admins can match their hub.
VERSION_LABELS = {"jupyterhub": "org.skahub.jupyterhub.version",
                  "jupyterlab": "org.skahub.jupyterlab.version"}


@dataclass
class BuildResult:
    name: str
    status: str  # built | up to date | failed | skipped
    reason: str
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    size: int = 0
    seconds: float = 0.0


def image_ref(matrix: Matrix, name: str, tag: str = "latest") -> str:
    return f"{matrix.settings.namespace}/{name}:{tag}"


def cache_dir(matrix: Matrix) -> Path:
    return Path(os.environ.get("HUBIMAGES_CACHE", matrix.root / ".cache"))


class Builder:
    def __init__(self, client: DockerClient, matrix: Matrix, force: bool = False,
                 jobs: int = 1) -> None:
        self.client = client
        self.matrix = matrix
        self.force = force
        self.jobs = max(1, jobs)
        self.cache = cache_dir(matrix)
        self.revision = gitinfo.revision(matrix.root)
        self.date = time.strftime("%Y-%m-%d", time.gmtime())
        self._server: WheelServer | None = None
        self._server_lock = threading.Lock()
        self._network: tuple[str, str] | None = None

    # -- planning ---------------------------------------------------------------------------

    def parent_token(self, spec: ImageSpec, results: dict[str, BuildResult]) -> str:
        """What the image is built on, as it enters the input hash."""
        if spec.parent is not None:
            return results[spec.parent].image_id or ""
        if spec.source_from is not None:
            return f"from:{spec.source_from}"
        return f"rootfs:{rootfs_key(self.matrix, spec)}"

    def verdict(self, spec: ImageSpec, inputs: str, results: dict[str, BuildResult]) -> str | None:
        """Why the image must be built, or None when it is up to date."""
        if self.force:
            return "--force"
        current = image_or_none(self.client, image_ref(self.matrix, spec.name))
        if current is None:
            return "no image yet"
        if current.labels.get(INPUTS_LABEL) == inputs:
            return None
        if spec.parent is not None and results[spec.parent].status == "built":
            return f"parent {spec.parent} was rebuilt"
        return "inputs changed"

    # -- running ----------------------------------------------------------------------------

    def run(self, targets: list[str] | None) -> list[BuildResult]:
        order = build_order(self.matrix, targets)
        results: dict[str, BuildResult] = {}
        pending = deque(order)
        running: dict[Future, str] = {}
        try:
            with ThreadPoolExecutor(self.jobs) as pool:
                while pending or running:
                    for name in list(pending):
                        parent = self.matrix.images[name].parent
                        if parent is not None and parent not in results:
                            continue
                        if len(running) >= self.jobs:
                            break
                        pending.remove(name)
                        if parent is not None and results[parent].status in ("failed", "skipped"):
                            results[name] = BuildResult(name, "skipped",
                                                        f"parent {parent} {results[parent].status}")
                            log.warning("[%s] skipped: parent %s %s", name, parent,
                                        results[parent].status)
                            continue
                        running[pool.submit(self._one, name, dict(results))] = name
                    if running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            name = running.pop(future)
                            results[name] = future.result()
        finally:
            if self._server is not None:
                self._server.__exit__(None, None, None)
        return [results[name] for name in order]

    def _one(self, name: str, results: dict[str, BuildResult]) -> BuildResult:
        spec = self.matrix.image(name)
        started = time.monotonic()
        inputs = input_hash(self.matrix, name, self.parent_token(spec, results))
        reason = self.verdict(spec, inputs, results)
        if reason is None:
            image = self.client.images.get(image_ref(self.matrix, name))
            log.info("[%s] up to date (inputs %s)", name, inputs[:12])
            return BuildResult(name, "up to date", "inputs unchanged", image.id,
                               _own_tags(image, self.matrix, name), image.attrs["Size"],
                               time.monotonic() - started)
        log.info("[%s] building: %s", name, reason)
        try:
            image_id = self._build(spec, results, inputs, started)
            tags = self._tag(spec, image_id)
        except HubImagesError as exc:
            log.error("[%s] failed after %.0fs: %s", name, time.monotonic() - started, exc)
            return BuildResult(name, "failed", str(exc), seconds=time.monotonic() - started)
        size = self.client.images.get(image_id).attrs["Size"]
        seconds = time.monotonic() - started
        log.info("[%s] built in %.0fs, %d MB", name, seconds, size // 10**6)
        self._record_build_time(name, seconds)
        return BuildResult(name, "built", reason, image_id, tags, size, seconds)

    def _record_build_time(self, name: str, seconds: float) -> None:
        """Keep the last real build time of each image for `invoke bench`."""
        with self._server_lock:
            path = self.cache / "build-times.json"
            times = json.loads(path.read_text()) if path.is_file() else {}
            times[name] = {"seconds": round(seconds, 1), "jobs": self.jobs,
                           "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(times, indent=2))
            tmp.rename(path)

    def _parent_image(self, spec: ImageSpec, results: dict[str, BuildResult]) -> tuple[str, str]:
        """(image id to build on, reference to record as base.name)."""
        if spec.parent is not None:
            return results[spec.parent].image_id or "", image_ref(self.matrix, spec.parent)
        if spec.source_from is not None:
            return self._pull(spec.source_from), spec.source_from
        root = ensure_root_image(self.client, self.matrix, spec, self.cache)
        return root, f"debian:{self.matrix.settings.debian.suite} (bootstrapped)"

    def _pull(self, ref: str) -> str:
        image = image_or_none(self.client, ref)
        if image is None:
            log.info("pulling %s", ref)
            try:
                image = self.client.images.pull(ref)
            except docker.errors.APIError as exc:
                raise HubImagesError(
                    f"cannot pull {ref}: {exc.explanation}; this site needs a registry for "
                    "source.from, or use source: bootstrap") from None
        return image.id

    def _build(self, spec: ImageSpec, results: dict[str, BuildResult], inputs: str,
               started: float) -> str:
        parent_id, parent_name = self._parent_image(spec, results)
        server = self._serve(spec.name)
        network, _ = self._network or ("", "")
        lock = lock_path(self.matrix, spec.name)
        build_args = {
            "WHEELHOUSE_URL": f"{server.url}/wheels/",
            "LOCK_URL": f"{server.url}/locks/{spec.name}.txt",
            "LOCK_SHA256": file_sha256(lock),
        }
        current = parent_id
        chain = stages(self.matrix, spec.name)
        for index, stage in enumerate(chain, 1):
            final = index == len(chain)
            label = spec.name if len(chain) == 1 else f"{spec.name}/{stage.name}"
            log.info("[%s] stage %d/%d: images/%s on %s", spec.name, index, len(chain),
                     stage.name, current[7:19])
            current = self._stream_build(
                label, stage.folder, {**build_args, "PARENT_IMAGE": current}, network,
                self._labels(spec, inputs, parent_name, parent_id) if final else {}, started)
        return current

    def _serve(self, name: str) -> WheelServer:
        """Fetch the image's locked wheels and add them to the (single) running server."""
        lock = lock_path(self.matrix, name)
        if not lock.is_file():
            raise HubImagesError(f"images/{name}/requirements.lock is missing: run "
                                 f"`invoke lock {name}`")
        requirements = read_lock(lock)
        t0 = time.monotonic()
        wheels = fetch(requirements, self.matrix.settings, self.cache / "wheels")
        log.info("[%s] %d locked wheels ready in %.1fs", name, len(wheels), time.monotonic() - t0)
        with self._server_lock:
            if self._server is None:
                self._network = build_network(self.client)
                port = self.matrix.settings.wheelhouse_port
                try:
                    self._server = WheelServer(self._network[1], port).__enter__()
                except OSError:
                    # The configured port is taken (another build?): any free port will do.
                    self._server = WheelServer(self._network[1], 0).__enter__()
            self._server.add(name, lock.read_bytes(), wheels)
        return self._server

    def _labels(self, spec: ImageSpec, inputs: str, parent_name: str,
                parent_id: str) -> dict[str, str]:
        labels = {
            "org.opencontainers.image.created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime()),
            "org.opencontainers.image.revision": self.revision.full,
            "org.opencontainers.image.title": spec.display_name,
            "org.opencontainers.image.description": spec.description,
            "org.opencontainers.image.version": f"{self.date}-{self.revision.short}",
            "org.opencontainers.image.base.name": parent_name,
            INPUTS_LABEL: inputs,
        }
        labels.update(version_labels(lock_path(self.matrix, spec.name)))
        if self.revision.source:
            labels["org.opencontainers.image.source"] = self.revision.source
        if parent_id.startswith("sha256:"):
            labels["org.opencontainers.image.base.digest"] = parent_id
        return labels

    def _stream_build(self, label: str, folder: Path, build_args: dict[str, str], network: str,
                      labels: dict[str, str], started: float) -> str:
        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        step = "(before the first step)"
        image_id = None
        stream = self.client.api.build(
            path=str(folder), dockerfile="Dockerfile", buildargs=build_args,
            network_mode=network, labels=labels or None, rm=True, forcerm=True,
            pull=False, decode=True,
        )
        for chunk in stream:
            if "stream" in chunk:
                for line in chunk["stream"].splitlines():
                    if line.startswith("Step "):
                        step = line
                        tail.clear()
                        log.info("[%s %5.0fs] %s", label, time.monotonic() - started,
                                 line[:160])
                    elif line.strip():
                        tail.append(line)
                        log.debug("[%s] %s", label, line)
            elif "error" in chunk:
                for line in tail:
                    log.error("[%s]   | %s", label, line)
                raise BuildFailedError(
                    f"images/{folder.name}: {_short(step)}: {_short(chunk['error'].strip())}")
            elif "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
        if image_id is None:
            raise BuildFailedError(f"images/{folder.name}: the engine returned no image id")
        return image_id

    def _tag(self, spec: ImageSpec, image_id: str) -> list[str]:
        try:
            facts = read_facts(self.client, image_id, self.date, self.revision.short)
        except docker.errors.DockerException as exc:
            raise HubImagesError(
                f"reading versions from the built {spec.name} failed: {exc}") from None
        tags = compute_tags(spec, facts)
        image = self.client.images.get(image_id)
        repository = f"{self.matrix.settings.namespace}/{spec.name}"
        for tag in tags:
            image.tag(repository, tag)
        return tags


def version_labels(lock: Path) -> dict[str, str]:
    """The hub-facing versions, from the lock: a registry client can read them without a pull."""
    pinned = {req.normalized: req.version for req in read_lock(lock)} if lock.is_file() else {}
    return {label: pinned[package] for package, label in VERSION_LABELS.items()
            if package in pinned}


def _short(text: str, limit: int = 160) -> str:
    """Dockerfile steps can be pages long; an error line names the step, not all of it."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _own_tags(image, matrix: Matrix, name: str) -> list[str]:
    repository = f"{matrix.settings.namespace}/{name}:"
    return [t.removeprefix(repository) for t in image.tags if t.startswith(repository)]


def failed(results: list[BuildResult]) -> list[BuildResult]:
    return [r for r in results if r.status in ("failed", "skipped")]


def build_images(matrix: Matrix, names: list[str], force: bool = False, jobs: int = 1,
                 client: DockerClient | None = None) -> list[BuildResult] | None:
    """Build and print the summary; None when something failed (after printing why)."""
    from hubimages.engine import connect
    from hubimages.report import summary_table

    for name in names:
        matrix.image(name)  # unknown names fail before any engine call
    client = client or connect()
    started = time.monotonic()
    results = Builder(client, matrix, force=force, jobs=jobs).run(names or None)
    print(summary_table(results), flush=True)
    print(f"total {time.monotonic() - started:.1f}s", flush=True)
    bad = failed(results)
    for result in bad:
        log.error("%s %s: %s", result.name, result.status, result.reason)
    return None if bad else results
