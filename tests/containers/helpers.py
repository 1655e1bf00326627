"""Helpers for the container tests: start real containers of the image under test, talk to them.

Every container is labelled LABEL=1 so that a session can sweep what an interrupted one left.
HTTP goes to the container's bridge IP (or 127.0.0.1 for published ports) and never through a
proxy: proxy variables of the test host must not change what is measured.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass

import docker
import docker.errors
from docker.models.containers import Container

from hubimages.core.waiting import wait_until

LABEL = "hubimages.test"
# host:pid of the test process that made the container, so that sweeps spare live runs.
OWNER_LABEL = "hubimages.test.owner"
OWNER = f"{socket.gethostname()}:{os.getpid()}"
DEFAULT_PORT = 8888

# Log lines that make a start unclean: Jupyter's [W ...]/[E ...] prefixes, start.sh's
# "WARNING[...]"/"ERROR[...]", Python warnings and tracebacks.
PROBLEM_LINE = re.compile(
    r"^\[[WE] |\bWARNING\b|\bERROR\b|Warning:|^Traceback \(most recent call last\)",
    re.MULTILINE,
)
# The one warning every plain start logs, as on docker-stacks: the server listens on every
# IPv4 and IPv6 address (ServerApp.ip = "") over plain HTTP; TLS is the hub proxy's job, or
# GEN_CERT's.
EXPECTED_WARNING = "The Jupyter server is listening on all IP addresses and not using encryption"
TOKEN_IN_LOGS = re.compile(r"[?&]token=([0-9A-Za-z_-]+)")
# The server's last start-up line: jupyter_lsp's scan for language servers, logged after the
# URLs banner. Once it is there, nothing more is logged unless something happens.
START_UP_DONE = r"Skipped non-installed server\(s\)"


class ContainerError(AssertionError):
    """A container did not reach the expected state; carries its logs."""


@dataclass
class RunResult:
    """Outcome of a container that ran a command to completion."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http_get(
    url: str, token: str | None = None, timeout: float = 5, method: str = "GET", body=None
) -> HttpResponse:
    """Request without proxies and without following redirects; HTTP errors are returned."""
    headers = {"Authorization": f"token {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    # http to a test container
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, dict(error.headers), error.read())


def logs(container: Container, stdout: bool = True, stderr: bool = True) -> str:
    return container.logs(stdout=stdout, stderr=stderr).decode("utf-8", "replace")


def problem_lines(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if PROBLEM_LINE.search(line) and EXPECTED_WARNING not in line
    ]


def container_ip(container: Container) -> str:
    container.reload()
    settings = container.attrs["NetworkSettings"]
    if settings.get("IPAddress"):
        return settings["IPAddress"]
    for network in settings.get("Networks", {}).values():
        if network.get("IPAddress"):
            return network["IPAddress"]
    raise ContainerError(f"container {container.short_id} has no bridge IP")


def is_running(container: Container) -> bool:
    container.reload()
    return container.status == "running"


def _fail(container: Container, message: str) -> ContainerError:
    return ContainerError(f"{message}\n--- logs of {container.short_id} ---\n{logs(container)}")


def api_url(ip: str, port: int = DEFAULT_PORT, base_url: str = "/") -> str:
    prefix = "/".join(part for part in base_url.split("/") if part)
    return f"http://{ip}:{port}/{prefix + '/' if prefix else ''}api"


def wait_for_api(
    container: Container,
    port: int = DEFAULT_PORT,
    base_url: str = "/",
    timeout: float = 60,
    started_at: float | None = None,
) -> float:
    """Wait until <base_url>api answers 200 on the container IP; return seconds since started_at."""
    started_at = started_at or time.monotonic()
    url = api_url(container_ip(container), port, base_url)

    def answered() -> float | None:
        try:
            if http_get(url, timeout=2).status == 200:
                return time.monotonic() - started_at
        except OSError:
            pass
        if not is_running(container):
            raise _fail(container, f"container exited before {url} answered")
        return None

    seconds = wait_until(answered, started_at + timeout - time.monotonic(), interval=0.05)
    if seconds is None:
        raise _fail(container, f"{url} did not answer 200 within {timeout} s")
    return seconds


def wait_for_log(container: Container, pattern: str, timeout: float = 30) -> re.Match:
    regex = re.compile(pattern, re.MULTILINE)
    match = wait_until(lambda: regex.search(logs(container)), timeout)
    if match is None:
        raise _fail(container, f"no log line matching {pattern!r} within {timeout} s")
    return match


def token_from_logs(container: Container, timeout: float = 30) -> str:
    return wait_for_log(container, TOKEN_IN_LOGS.pattern, timeout).group(1)


def wait_for_health(container: Container, timeout: float = 60, expected: str = "healthy") -> str:
    """Wait for the HEALTHCHECK to report `expected`; fail on exit (and, waiting for healthy,
    on unhealthy)."""
    status = "unknown"

    def settled() -> bool:
        nonlocal status
        container.reload()
        status = container.attrs["State"].get("Health", {}).get("Status", "none")
        failed = status == "unhealthy" and expected == "healthy"
        return status == expected or failed or container.status != "running"

    if wait_until(settled, timeout, interval=0.5) and status == expected:
        return status
    health = json.dumps(container.attrs["State"].get("Health"), indent=1)
    raise _fail(container, f"health is {status}, not {expected}:\n{health}")


def wait_for_exit(container: Container, timeout: float = 60) -> int:
    try:
        return container.wait(timeout=timeout)["StatusCode"]
    except Exception as error:  # the SDK raises requests' ReadTimeout/ConnectionError
        raise _fail(container, f"container did not exit within {timeout} s ({error})") from None


def processes(container: Container) -> list[str]:
    """Command lines of the container's processes, read by the host (no ps needed inside)."""
    top = container.top(ps_args="-o pid,args")
    column = top["Titles"].index("COMMAND") if "COMMAND" in top["Titles"] else -1
    return [row[column] for row in top["Processes"]]


def exec_text(container: Container, command: str, user: str = "") -> tuple[int, str]:
    """Run a shell command in a running container; return (exit code, stdout+stderr)."""
    result = container.exec_run(["/bin/sh", "-c", command], user=user, demux=False)
    assert isinstance(result.output, bytes) and result.exit_code is not None
    return result.exit_code, result.output.decode("utf-8", "replace")


FileSpec = tuple[str | bytes | None, int, int, int]


def put_files(container: Container, files: dict[str, FileSpec]) -> None:
    """Copy into a created (or running) container: path -> (content, mode, uid, gid).

    Content None makes a directory. Used instead of bind mounts so that the tests also work with
    a remote Docker engine.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, (content, mode, uid, gid) in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, int(time.time())
            if content is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                data = content.encode() if isinstance(content, str) else content
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    assert container.put_archive("/", buffer.getvalue())


def make_wheel(name: str, version: str, requires_python: str = "") -> tuple[str, bytes]:
    """(file name, bytes) of a minimal pure-Python wheel: module `name` with VERSION = version
    (and the Requires-Python it declares, if any)."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hubimages-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for path, text in files.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's or unlabelled: a leftover as far as we can tell
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def sweep(client: docker.DockerClient) -> int:
    """Remove labelled containers and networks of this process and of test runs that are gone.

    Those of another live test run (e.g. a second pytest in parallel) are left alone.
    """
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
        owner = container.labels.get(OWNER_LABEL, "")
        if owner != OWNER and _owner_alive(owner):
            continue
        try:
            container.remove(force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if "already in progress" not in str(error):
                raise
    for network in client.networks.list(filters={"label": f"{LABEL}=1"}):
        owner = network.attrs.get("Labels", {}).get(OWNER_LABEL, "")
        if owner != OWNER and _owner_alive(owner):
            continue
        try:
            network.remove()
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


class ContainerFactory:
    """Creates labelled containers of one image and removes all of them in cleanup()."""

    def __init__(self, client: docker.DockerClient, image: str):
        self.client = client
        self.image = image
        self.containers: list[Container] = []

    def create(
        self,
        command: str | list[str] | None = None,
        *,
        user: str | None = None,
        environment: dict[str, str] | None = None,
        files: dict[str, FileSpec] | None = None,
        **kwargs,
    ) -> Container:
        labels = {LABEL: "1", OWNER_LABEL: OWNER, **kwargs.pop("labels", {})}
        container = self.client.containers.create(
            self.image,
            command=command,
            user=user,
            environment=environment or {},
            labels=labels,
            detach=True,
            **kwargs,
        )
        self.containers.append(container)
        if files:
            put_files(container, files)
        return container

    def start(self, command=None, **kwargs) -> Container:
        """Create and start; the returned container has `started_at` (monotonic seconds)."""
        container = self.create(command, **kwargs)
        container.started_at = time.monotonic()  # type: ignore[attr-defined]
        container.start()
        return container

    def run(self, command, timeout: float = 60, **kwargs) -> RunResult:
        """Run a command through the image's entrypoint to completion."""
        container = self.start(command, **kwargs)
        code = wait_for_exit(container, timeout)
        return RunResult(code, logs(container, stderr=False), logs(container, stdout=False))

    def server(self, port: int = DEFAULT_PORT, base_url: str = "/", **kwargs) -> Container:
        """Start the default command (or `command`) and wait for its /api."""
        container = self.start(kwargs.pop("command", None), **kwargs)
        container.startup_seconds = wait_for_api(  # type: ignore[attr-defined]
            container,
            port=port,
            base_url=base_url,
            started_at=container.started_at,  # type: ignore[attr-defined]
        )
        container.ip = container_ip(container)  # type: ignore[attr-defined]
        return container

    def cleanup(self) -> None:
        while self.containers:
            container = self.containers.pop()
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the engine's `docker save` stream)."""

    def __init__(self, chunks) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


# A busy engine takes more than the client's default minute to start streaming a 1.5 GB save.
SAVE_TIMEOUT_S = 600


def layer_paths(client: docker.DockerClient, image_id: str):
    """(layer archive, path) for every entry of every layer of the image, streamed from the
    engine's `docker save` (nothing is written to disk)."""
    patient = docker.from_env(timeout=SAVE_TIMEOUT_S)  # the engine `client` talks to
    stream = io.BufferedReader(_ChunkReader(patient.api.get_image(image_id)), 1 << 20)
    with tarfile.open(fileobj=stream, mode="r|") as saved:
        for member in saved:
            if not member.name.endswith("layer.tar") or not member.isfile():
                continue
            layer = saved.extractfile(member)
            if layer is None:
                continue
            with tarfile.open(fileobj=layer, mode="r|") as entries:
                for entry in entries:
                    yield member.name, entry.name


# Labels for containers a test starts by hand: swept by interrupted runs of this process only.
TEST_LABELS = {LABEL: "1", OWNER_LABEL: OWNER}
