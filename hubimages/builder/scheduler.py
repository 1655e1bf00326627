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
Done = tuple[str, BuildResult]


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


def run_builds(run: BuildRun, targets: list[str] | None, jobs: int = 2) -> list[BuildResult]:
    order = build_order(run.matrix, targets)
    results: dict[str, BuildResult] = {}
    with ExitStack() as stack:
        scheduler = _Scheduler(run, ServerOnDemand(run, stack), max(1, jobs))
        try:
            scheduler.run(order, results)
        except KeyboardInterrupt:
            log.warning("interrupted: stopping the running builds")
            run.cancel.set()
            scheduler.drain(results)
    for name in order:
        results.setdefault(
            name, BuildResult(name, BuildStatus.SKIPPED, "interrupted before it started")
        )
    return [results[name] for name in order]


class _Scheduler:
    def __init__(self, run: BuildRun, servers: ServerOnDemand, jobs: int) -> None:
        self.run_ = run
        self.servers = servers
        self.jobs = jobs
        self.running: set[str] = set()
        self.finished: queue.Queue[Done] = queue.Queue()

    def run(self, order: list[str], results: dict[str, BuildResult]) -> None:
        pending = list(order)
        while pending or self.running:
            self._start_ready(pending, results)
            if self.running:
                name, result = self._next()
                self.running.discard(name)
                results[name] = result

    def _start_ready(self, pending: list[str], results: dict[str, BuildResult]) -> None:
        for name in list(pending):
            parent = self.run_.matrix.images[name].parent
            if parent is not None and parent not in results:
                continue
            if len(self.running) >= self.jobs:
                return
            pending.remove(name)
            if parent is not None and not results[parent].status.ok:
                why = f"parent {parent} {results[parent].status.value}"
                results[name] = BuildResult(name, BuildStatus.SKIPPED, why)
                log.warning("[%s] skipped: %s", name, why)
                continue
            self.running.add(name)
            snapshot = dict(results)
            # Daemon threads: a second Ctrl-C must not wait for a build to finish.
            threading.Thread(
                target=self._work, args=(name, snapshot), daemon=True, name=f"build-{name}"
            ).start()

    def _work(self, name: str, results: dict[str, BuildResult]) -> None:
        builder = build_environment if self.run_.matrix.images[name].environment else build_one
        try:
            result = builder(self.run_, name, results, self.servers)
        except Exception as exc:
            log.exception("[%s] unexpected error", name)
            result = BuildResult(name, BuildStatus.FAILED, f"unexpected error: {exc}")
        self.finished.put((name, result))

    def _next(self) -> Done:
        while True:  # a timeout keeps the wait interruptible by Ctrl-C
            try:
                return self.finished.get(timeout=0.5)
            except queue.Empty:
                continue

    def drain(self, results: dict[str, BuildResult]) -> None:
        """After a cancel: collect what the running builds report, for a bounded time."""

        def collected_all() -> bool:
            try:
                name, result = self.finished.get(timeout=0.5)
            except queue.Empty:
                return False
            self.running.discard(name)
            results[name] = result
            return not self.running

        if self.running:
            wait_until(collected_all, CANCEL_WAIT_S, interval=0)
        for name in self.running:
            results[name] = BuildResult(name, BuildStatus.INTERRUPTED, "still stopping")


def build_images(run: BuildRun, targets: list[str] | None, jobs: int = 2) -> list[BuildResult]:
    """Build (parents first) and keep the build times; every target gets a result."""
    for name in targets or []:
        run.matrix.image(name)  # unknown names fail before any engine call
    results = run_builds(run, targets or None, jobs)
    record_build_times(run.cache.build_times, results, jobs)
    return results


def failed(results: list[BuildResult]) -> list[BuildResult]:
    return [r for r in results if not r.status.ok]
