"""Build images parents first, siblings side by side, and stop cleanly on Ctrl-C.

The wheel server is started the first time an image needs it and closed when the run ends,
however it ends. On Ctrl-C the run is cancelled: running builds stop at once (their step
container is killed, no tag moves), images not started are skipped, and every image still gets
its line in the summary. A second Ctrl-C stops waiting.
"""

from __future__ import annotations

import logging
import queue
import threading
from contextlib import ExitStack
from dataclasses import replace

from hubimages.builder.engine import build_network
from hubimages.builder.image import build_one
from hubimages.builder.run import BuildResult, BuildRun, BuildStatus
from hubimages.builder.timings import record_build_times
from hubimages.builder.userenv.build import build_environment
from hubimages.core.waiting import wait_until
from hubimages.deps.server import WheelServer
from hubimages.model.lineage import build_order

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 60  # how long a cancelled run waits for its builds to stop


class ServerOnDemand:
    """Starts the wheel server inside the run's ExitStack the first time a build asks."""

    def __init__(self, run: BuildRun, stack: ExitStack) -> None:
        self._run = run
        self._stack = stack
        self._guard = threading.Lock()
        self._started: tuple[WheelServer, str] | None = None

    def __call__(self) -> tuple[WheelServer, str]:
        with self._guard:
            if self._started is None:
                network, gateway = build_network(self._run.client)
                settings = self._run.matrix.settings
                mirrors = settings.debian.mirrors
                try:
                    server = self._stack.enter_context(
                        WheelServer(gateway, settings.wheelhouse_port, mirrors)
                    )
                except OSError:
                    # The configured port is taken (another build?): any free port will do.
                    server = self._stack.enter_context(WheelServer(gateway, 0, mirrors))
                log.info("wheel server on %s (network %s)", server.url, network)
                self._started = (server, network)
            return self._started


Node = tuple[int, str]  # (index of the variant's run, image)
Done = tuple[Node, BuildResult]


def run_builds(runs: list[BuildRun], targets: list[str] | None, jobs: int = 2) -> list[BuildResult]:
    """Every variant's images in one schedule: a variant's base builds beside another's."""
    order = [
        (index, name)
        for index, run in enumerate(runs)
        for name in build_order(run.matrix, [t for t in targets or [] if t in run.matrix.images])
        if targets is None or any(t in run.matrix.images for t in targets)
    ]
    results: dict[Node, BuildResult] = {}
    with ExitStack() as stack:
        servers = [ServerOnDemand(run, stack) for run in runs]
        scheduler = _Scheduler(runs, servers, max(1, jobs))
        try:
            scheduler.run(order, results)
        except KeyboardInterrupt:
            log.warning("interrupted: stopping the running builds")
            for run in runs:
                run.cancel.set()
            scheduler.drain(results)
    for node in order:
        results.setdefault(
            node, BuildResult(node[1], BuildStatus.SKIPPED, "interrupted before it started")
        )
    return [replace(results[node], variant=runs[node[0]].matrix.variant.name) for node in order]


class _Scheduler:
    def __init__(self, runs: list[BuildRun], servers: list[ServerOnDemand], jobs: int) -> None:
        self.runs = runs
        self.servers = servers
        self.jobs = jobs
        self.running: set[Node] = set()
        self.finished: queue.Queue[Done] = queue.Queue()

    def run(self, order: list[Node], results: dict[Node, BuildResult]) -> None:
        pending = list(order)
        while pending or self.running:
            self._start_ready(pending, results)
            if self.running:
                node, result = self._next()
                self.running.discard(node)
                results[node] = result

    def _start_ready(self, pending: list[Node], results: dict[Node, BuildResult]) -> None:
        for node in list(pending):
            index, name = node
            parent = self.runs[index].matrix.images[name].parent
            above = (index, parent) if parent is not None else None
            if above is not None and above not in results:
                continue
            if len(self.running) >= self.jobs:
                return
            pending.remove(node)
            if above is not None and not results[above].status.ok:
                why = f"parent {parent} {results[above].status.value}"
                results[node] = BuildResult(name, BuildStatus.SKIPPED, why)
                log.warning("[%s] skipped: %s", name, why)
                continue
            self.running.add(node)
            snapshot = {n: r for (i, n), r in results.items() if i == index}
            # Daemon threads: a second Ctrl-C must not wait for a build to finish.
            threading.Thread(
                target=self._work, args=(node, snapshot), daemon=True, name=f"build-{name}"
            ).start()

    def _work(self, node: Node, results: dict[str, BuildResult]) -> None:
        index, name = node
        run = self.runs[index]
        builder = build_environment if run.matrix.images[name].environment else build_one
        try:
            result = builder(run, name, results, self.servers[index])
        except Exception as exc:
            log.exception("[%s] unexpected error", name)
            result = BuildResult(name, BuildStatus.FAILED, f"unexpected error: {exc}")
        self.finished.put((node, result))

    def _next(self) -> Done:
        while True:  # a timeout keeps the wait interruptible by Ctrl-C
            try:
                return self.finished.get(timeout=0.5)
            except queue.Empty:
                continue

    def drain(self, results: dict[Node, BuildResult]) -> None:
        """After a cancel: collect what the running builds report, for a bounded time."""

        def collected_all() -> bool:
            try:
                node, result = self.finished.get(timeout=0.5)
            except queue.Empty:
                return False
            self.running.discard(node)
            results[node] = result
            return not self.running

        if self.running:
            wait_until(collected_all, CANCEL_WAIT_S, interval=0)
        for node in self.running:
            results[node] = BuildResult(node[1], BuildStatus.INTERRUPTED, "still stopping")


def build_variants(
    runs: list[BuildRun], targets: list[str] | None, jobs: int = 2
) -> list[BuildResult]:
    """Build (parents first) in every variant of `runs`, and keep the build times; every
    target gets a result in each variant that builds it."""
    for name in targets or []:
        if not any(name in run.matrix.images for run in runs):
            runs[0].matrix.image(name)  # unknown, or excluded: fails before any engine call
    results = run_builds(runs, targets or None, jobs)
    for run in runs:
        own = [r for r in results if r.variant == run.matrix.variant.name]
        record_build_times(run.cache.build_times, own, jobs)
    return results


def build_images(run: BuildRun, targets: list[str] | None, jobs: int = 2) -> list[BuildResult]:
    """Build one variant's images (parents first) and keep the build times."""
    return build_variants([run], targets, jobs)


def failed(results: list[BuildResult]) -> list[BuildResult]:
    return [r for r in results if not r.status.ok]
