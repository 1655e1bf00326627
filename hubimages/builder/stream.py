"""Run one `docker build` of a folder through the engine API and follow its output.

The log is shown step by step; a failing step is named with the last lines of its output. A
cancelled build is stopped where it is: the container of its current step is killed, so the
engine ends the build at once and removes that container (forcerm).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker.errors
from docker import DockerClient

from hubimages.errors import BuildFailedError

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 25
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The builder's own bookkeeping, not the output of the step.
BUILDER_NOISE = re.compile(r"^(Removing intermediate container|Running in|---> )")
STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12})$")  # the image a step starts from


@dataclass
class BuildRequest:
    """One engine build: of a folder (with its Dockerfile), or of a tar context."""

    name: str  # how errors name what was built, e.g. images/ml
    label: str  # how the log names this build, e.g. sdc1/ml
    build_args: dict[str, str]
    network: str
    labels: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None
    context: IO[bytes] | None = None  # a tar holding the Dockerfile and what it copies
    dockerfile: str = "Dockerfile"
    tag: str | None = None

    def source(self) -> dict[str, Any]:
        if self.context is not None:
            return {"fileobj": self.context, "custom_context": True}
        return {"path": str(self.folder), "dockerfile": self.dockerfile}


class StepTracker:
    """The image the current step runs on, so a cancel can find the step's container."""

    def __init__(self) -> None:
        self.image: str | None = None

    def kill_step(self, client: DockerClient) -> bool:
        """Kill the step's container if it runs; whether one was killed."""
        if self.image is None:
            return False
        killed = False
        for container in client.containers.list(filters={"ancestor": self.image}):
            try:
                container.kill()
                killed = True
                log.info("stopped the running build step (container %s)", container.short_id)
            except docker.errors.APIError:
                pass  # it ended on its own meanwhile
        return killed


def stream_build(
    client: DockerClient, request: BuildRequest, cancel: threading.Event, started: float
) -> str:
    """Build, return the image id; raise BuildFailedError naming the failing step."""
    tracker = StepTracker()
    done = threading.Event()
    watcher = threading.Thread(
        target=_kill_on_cancel, args=(client, tracker, cancel, done), daemon=True
    )
    stream: Iterator[dict[str, Any]] = client.api.build(
        **request.source(),
        tag=request.tag,
        buildargs=request.build_args,
        network_mode=request.network,
        labels=request.labels or None,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
    )
    watcher.start()
    try:
        return _follow(stream, request, tracker, started)
    finally:
        done.set()  # nothing left to stop once the stream ended


def _kill_on_cancel(
    client: DockerClient, tracker: StepTracker, cancel: threading.Event, done: threading.Event
) -> None:
    # Until the build's stream ends: a step container may still be starting when Ctrl-C comes.
    while not done.wait(0.2):
        if cancel.is_set():
            tracker.kill_step(client)


def _follow(
    stream: Iterator[dict[str, Any]], request: BuildRequest, tracker: StepTracker, started: float
) -> str:
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    step = "(before the first step)"
    image_id = None
    for chunk in stream:
        if "stream" in chunk:
            for line in ANSI.sub("", chunk["stream"]).splitlines():
                if match := STEP_IMAGE.match(line):
                    tracker.image = match.group(1)
                if line.startswith("Step "):
                    step = line
                    tail.clear()
                    log.info(
                        "[%s %5.0fs] %s", request.label, time.monotonic() - started, line[:160]
                    )
                elif line.strip():
                    tail.append(line)
                    log.debug("[%s] %s", request.label, line)
        elif "error" in chunk:
            for line in tail:
                log.error("[%s]   | %s", request.label, line)
            output = [line for line in tail if not BUILDER_NOISE.match(line.strip())]
            last = " | ".join(_short(line, 100) for line in output[-3:])
            raise BuildFailedError(
                f"{request.name}: {_short(step)}: "
                f"{_short(chunk['error'].strip())}" + (f" (last output: {last})" if last else "")
            )
        elif "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if image_id is None:
        raise BuildFailedError(f"{request.name}: the engine returned no image id")
    return str(image_id)


def _short(text: str, limit: int = 160) -> str:
    """Dockerfile steps can be pages long; an error line names the step, not all of it."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
