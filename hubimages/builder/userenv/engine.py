"""Our repo2docker engine plugin (entry point `repo2docker.engines: hubimages`).

repo2docker 2026.4 builds through `docker buildx build`, which Debian's Docker 20.10 does not
have. This engine sends repo2docker's builds to the Docker API with the docker SDK instead (the
classic builder), on the build tool's internal network, with the wheel server's build
arguments, the build tool's labels, its log format and its cancel on Ctrl-C. Pushing and running
are the release's and the tests' business, not repo2docker's here.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker.errors
from docker import DockerClient
from repo2docker.engine import (
    BuildError,
    ContainerEngine,
    ContainerEngineException,
    Image,
)
from traitlets import Unicode

from hubimages.builder.stream import BuildRequest, stream_build
from hubimages.errors import BuildFailedError


@dataclass
class EngineContext:
    """What one environment's build needs from the build run; the engine fills image_id."""

    client: DockerClient
    name: str  # for messages, e.g. environment sdc1-starter
    network: str
    build_args: dict[str, str]
    labels: dict[str, str]
    cancel: threading.Event
    started: float
    image_id: str = ""
    steps: list[str] = field(default_factory=list)


# repo2docker makes the engine itself, from its (deep-copied) configuration: a build hands the
# engine its context by key, not by value (a docker client cannot be copied).
_CONTEXTS: dict[str, EngineContext] = {}


@contextmanager
def engine_context(context: EngineContext) -> Iterator[str]:
    """The key to give the engine (HubImagesEngine.context_key) while the build runs."""
    key = uuid.uuid4().hex
    _CONTEXTS[key] = context
    try:
        yield key
    finally:
        del _CONTEXTS[key]


class HubImagesEngine(ContainerEngine):  # type: ignore[misc]
    string_output = True  # we log the build ourselves; repo2docker gets one line per image
    context_key = Unicode("").tag(config=True)

    def _context(self) -> EngineContext:
        context = _CONTEXTS.get(self.context_key)
        if context is None:
            raise ContainerEngineException(
                "the hubimages engine runs inside `invoke build` or `invoke repo2docker` only"
            )
        return context

    def build(
        self,
        *,
        push: bool = False,
        load: bool = False,
        buildargs: dict[str, str] | None = None,
        cache_from: list[str] | None = None,
        container_limits: dict[str, int] | None = None,
        tag: str = "",
        custom_context: bool = False,
        dockerfile: str = "",
        fileobj: IO[bytes] | None = None,
        path: str = "",
        labels: dict[str, str] | None = None,
        platform: str | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        if push:
            raise ContainerEngineException("pushing is `invoke release`'s job, not repo2docker's")
        ctx = self._context()
        request = BuildRequest(
            name=ctx.name,
            label=ctx.name,
            build_args={**(buildargs or {}), **ctx.build_args},
            network=ctx.network,
            labels={**(labels or {}), **ctx.labels},
            folder=Path(path) if path and not custom_context else None,
            context=fileobj if custom_context else None,
            dockerfile=dockerfile or "Dockerfile",
            tag=tag or None,
        )
        try:
            ctx.image_id = stream_build(ctx.client, request, ctx.cancel, ctx.started)
        except BuildFailedError as exc:
            raise BuildError(str(exc)) from None
        yield f"built {ctx.image_id[7:19]}\n"

    def inspect_image(self, image: str) -> Image | None:
        try:
            found = self._context().client.images.get(image)
        except docker.errors.ImageNotFound:
            return None
        return Image(tags=found.tags, config=found.attrs.get("Config") or {})

    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise ContainerEngineException("the project's tests run the built images, not repo2docker")
