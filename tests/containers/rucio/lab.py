"""A lab session of the image under test pointed at the local Rucio, as a scientist uses it:
commands in a terminal of the session (the notebook server's environment), and the Rucio
JupyterLab extension's REST API called the way the lab front end calls it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.parse
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from docker.models.containers import Container

from hubimages.core.waiting import wait_until
from hubimages.services.rucio.site import RucioSite
from tests.containers.conftest import DATA_MOUNT
from tests.containers.helpers import (
    ContainerFactory,
    HttpResponse,
    http_get,
    logs,
    token_from_logs,
)

HOME = "/home/jovyan"
EXTENSION = "rucio-jupyterlab"
# The environment a terminal (or a kernel) of the session gets: the notebook server's, after
# start.sh and its hooks exported RUCIO_CONFIG and X509_USER_PROXY.
SERVER_ENVIRON = """
import json, os
for pid in sorted((p for p in os.listdir('/proc') if p.isdigit()), key=int):
    try:
        cmdline = open(f'/proc/{pid}/cmdline', 'rb').read()
        environ = open(f'/proc/{pid}/environ', 'rb').read()
    except OSError:
        continue
    if b'jupyter' in cmdline:
        pairs = (item.decode().split('=', 1) for item in environ.split(b'\\0') if b'=' in item)
        print(json.dumps(dict(pairs)))
        break
"""


def checksums(data: bytes) -> dict[str, str]:
    """What Rucio records of a file: size, Adler-32 (8 hex digits) and MD5."""
    return {
        "bytes": str(len(data)),
        "adler32": f"{zlib.adler32(data) & 0xFFFFFFFF:08x}",
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),  # Rucio's checksum
    }


@dataclass
class Lab:
    container: Container
    ip: str
    token: str
    namespace: str  # the extension's instance name (RUCIO_NAME)
    _environment: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        if not self._environment:
            result = self.container.exec_run(["python", "-c", SERVER_ENVIRON], user="jovyan")
            assert result.exit_code == 0 and isinstance(result.output, bytes), result.output
            self._environment = json.loads(result.output.decode())
        return self._environment

    def sh(self, script: str) -> tuple[int, str]:
        """Run a shell script as in a terminal of the session: (exit code, stdout+stderr)."""
        result = self.container.exec_run(
            ["bash", "-c", script], user="jovyan", workdir=HOME, environment=self.environment()
        )
        assert isinstance(result.output, bytes) and result.exit_code is not None
        return result.exit_code, result.output.decode("utf-8", "replace")

    def output(self, script: str) -> str:
        """What a script prints (the `rucio` CLI exits 0 after many failures: read its words)."""
        return self.sh(script)[1]

    def upload(self, site: RucioSite, path: str, name: str) -> str:
        """`rucio upload` of a file of the session to the site's first RSE; the new DID."""
        out = self.output(
            f"rucio upload --rse {site.rses[0].name} --scope {site.scope} --lfn {name} {path}"
        )
        assert "Successfully uploaded file" in out, out
        return f"{site.scope}:{name}"

    def start_sh(self, script: str) -> None:
        """Start a script in the background (its output is for the script to keep)."""
        self.container.exec_run(
            ["bash", "-c", script],
            user="jovyan",
            workdir=HOME,
            environment=self.environment(),
            detach=True,
        )

    def read(self, path: str) -> bytes:
        stream, _ = self.container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.next()
            assert member is not None and member.isfile(), path
            extracted = archive.extractfile(member)
            assert extracted is not None
            return extracted.read()

    def exists(self, path: str) -> bool:
        return self.sh(f"test -e {path}")[0] == 0

    def api(self, method: str, path: str, body: object = None, **params: str) -> HttpResponse:
        """The extension's endpoint `path`, with ?namespace= as the front end sends it."""
        query = urllib.parse.urlencode({"namespace": self.namespace, **params})
        url = f"http://{self.ip}:8888/{EXTENSION}/{path}?{query}"
        return http_get(url, token=self.token, method=method, body=body, timeout=60)

    def api_ok(self, method: str, path: str, body: object = None, **params: str) -> object:
        response = self.api(method, path, body, **params)
        assert response.status == 200, (path, response.status, response.body)
        return response.json()

    def log_in(self, password: str, account: str = "") -> HttpResponse:
        """What the extension's login form sends for userpass."""
        user = account or self.environment()["RUCIO_ACCOUNT"]
        return self.api(
            "PUT",
            "auth",
            {
                "namespace": self.namespace,
                "type": "userpass",
                "params": {"username": user, "password": password, "account": user},
            },
        )

    def server_up(self) -> bool:
        response = http_get(f"http://{self.ip}:8888/api", timeout=5)
        return response.status == 200

    def file_status(self, did: str, want: set[str], timeout: float = 90) -> dict[str, object]:
        """Poll the extension's view of a file (as the panel does) until its status is in
        `want`; the last answer."""
        last: dict[str, object] = {}

        def settled() -> bool:
            nonlocal last
            answer = self.api_ok("GET", "did", did=did)
            assert isinstance(answer, list) and len(answer) == 1, answer
            last = answer[0]
            return last["status"] in want

        wait_until(settled, timeout, interval=0.5)
        return last


def start_lab(
    factory: ContainerFactory, site: RucioSite, data: Path, overrides: dict[str, str]
) -> Lab:
    """A notebook server of the image under test on the site's network, the SDC1 data
    mounted read-only at DATA_MOUNT; waits for its /api."""
    env = {**site.session_env(), **overrides}
    container = factory.server(
        environment=env,
        network=site.network,
        volumes={**site.session_volumes(), str(data): {"bind": DATA_MOUNT, "mode": "ro"}},
    )
    ip: str = container.ip  # type: ignore[attr-defined]
    lab = Lab(container, ip, token_from_logs(container), env["RUCIO_NAME"])
    assert lab.server_up(), logs(container)
    return lab


TOKEN_FILE = "/tmp/bt_u1000"  # noqa: S105 - a path: where skahub_token_file keeps the session's token (WLCG)


def put_token(container: Container, token: str) -> None:
    """Replace the session's token file as the hub-fed renewal does: mode 600, the user's,
    swapped in at once (a tar member, then a rename by the user)."""
    data = token.encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        member = tarfile.TarInfo(".bt_u1000.new")
        member.size, member.mode, member.uid, member.gid = len(data), 0o600, 1000, 100
        tar.addfile(member, io.BytesIO(data))
    assert container.put_archive("/tmp", archive.getvalue())
    moved = container.exec_run(["mv", "-f", "/tmp/.bt_u1000.new", TOKEN_FILE], user="jovyan")
    assert moved.exit_code == 0, moved.output


def start_oidc_lab(factory: ContainerFactory, site: RucioSite, data: Path, account: str) -> Lab:
    """A session as an OIDC hub starts it: RUCIO_* with auth type oidc, the CA mounted, no
    secret. The test puts the user's access token in its token file (put_token)."""
    env = site.session_env(account, auth="oidc")
    container = factory.server(
        environment=env,
        network=site.network,
        volumes={
            str(site.ca_cert): {"bind": env["RUCIO_CA_CERT"], "mode": "ro"},
            str(data): {"bind": DATA_MOUNT, "mode": "ro"},
        },
    )
    ip: str = container.ip  # type: ignore[attr-defined]
    lab = Lab(container, ip, token_from_logs(container), env["RUCIO_NAME"])
    assert lab.server_up(), logs(container)
    return lab
