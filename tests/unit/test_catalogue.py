"""The catalogue without an engine: its schema, its queries, its page, the real service over
HTTP (public listing, launches behind the login) and the real read-only git server."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from dockerspawner import DockerSpawner
from jupyterhub.app import JupyterHub
from traitlets.config.loader import PyFileConfigLoader

from hubimages.core.ports import free_port
from hubimages.e2e.workflow_launch import spawner_escape
from hubimages.services.catalogue.app import launch_url
from hubimages.services.catalogue.hubconfig import Access, CatalogueService
from hubimages.services.catalogue.page import render_page
from hubimages.services.catalogue.query import (
    CatalogueIndex,
    EnvironmentQuery,
    QueryError,
    WorkflowQuery,
)
from hubimages.services.catalogue.schema import SCHEMA

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "ab" * 32


def environment(
    name: str, packages: dict[str, str], debian: dict[str, str], variant: str = "trixie"
) -> dict[str, Any]:
    return {
        "id": f"{name}:{variant}",
        "name": name,
        "variant": variant,
        "default_variant": variant == "trixie",
        "debian_suite": variant,
        "display_name": f"{name.upper()} <env>",
        "description": f"the {name} environment",
        "kind": "image",
        "parent": None,
        "image": f"127.0.0.1:5000/ska/{name}:2026-12-03-abc1234@{DIGEST}",
        "digest": DIGEST,
        "image_id": DIGEST,
        "release": "2026-12-03-abc1234",
        "tags": ["2026-12-03-abc1234", "latest"],
        "python": "3.11.2",
        "python_packages": packages,
        "debian_packages": debian,
        "jupyterhub": "5.5.4",
        "jupyterlab": "4.6.6",
        "size": 900_000_000,
        "compressed_size": 290_000_000,
        "spawn": {
            "image": f"{name} · Python 3.13, Debian {variant}",
            "profile": name,
            f"profile-option-{name}--variant": variant,
        },
        "server_name": f"{name}-{variant}",
        "findings": [],
    }


def workflow(name: str, env: str, uses: dict[str, str], runnable: bool) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": f"Workflow {name}",
        "description": "looks at <b>sources</b>",
        "repository": f"workflows/{name}",
        "ref": "",
        "commit": "c" * 40,
        "served": f"{name}.git",
        "branch": "main",
        "notebooks": [f"{name}.ipynb"],
        "environment": env,
        "variant": "trixie",
        "environment_id": f"{env}:trixie",
        "data": [{"files": "data/sdc1", "at": "/data/sdc1"}],
        "timeout": 300,
        "passed": [{"release": "r", "digest": DIGEST, "commit": "c" * 40}] if runnable else [],
        "runnable": runnable,
        "reason": "" if runnable else "failed on sha256:abab: notebook x, cell 3",
        "uses": uses,
        "launch": f"launch/{name}",
    }


DOCUMENT: dict[str, Any] = {
    "version": 1,
    "generated": "2026-12-03T08:00:00Z",
    "registry": "127.0.0.1:5000/ska",
    "release": "2026-12-03-abc1234",
    "revision": "abc1234",
    "releases": {"trixie": "2026-12-03-abc1234", "bookworm": "python-3.11-2026-12-03-abc1234"},
    "environments": [
        environment("base", {"jupyterlab": "4.6.6"}, {"git": "1:2.39.5-0+deb12u3"}),
        environment("pybdsf", {"bdsf": "1.14.1", "PyVO": "1.9.1"}, {"git": "1:2.39.5"}),
        environment("old", {"bdsf": "1.13.0"}, {}),
        environment("pybdsf", {"bdsf": "1.14.1"}, {"git": "1:2.39.5"}, "bookworm"),
    ],
    "workflows": [
        workflow("quicklook", "pybdsf", {"bdsf": "1.14.1", "astropy": "8.0.2"}, True),
        workflow("tap", "pybdsf", {"pyvo": "1.9.1"}, False),
    ],
}


def test_the_document_validates_and_a_broken_one_does_not() -> None:
    jsonschema.validate(DOCUMENT, SCHEMA)
    broken = copy.deepcopy(DOCUMENT)
    broken["workflows"][0]["commit"] = "not a commit"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    del broken["environments"][0]["digest"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (EnvironmentQuery(python=("bdsf>=1.14",)), ["pybdsf:trixie", "pybdsf:bookworm"]),
        (
            EnvironmentQuery(python=("bdsf",)),
            ["pybdsf:trixie", "old:trixie", "pybdsf:bookworm"],
        ),
        (EnvironmentQuery(python=("pyvo==1.9.1", "BDSF<2")), ["pybdsf:trixie"]),
        (EnvironmentQuery(python=("bdsf>=1.14,<1.14.1",)), []),
        (EnvironmentQuery(debian=("git",)), ["base:trixie", "pybdsf:trixie", "pybdsf:bookworm"]),
        (EnvironmentQuery(debian=("git=1:2.39.5",)), ["pybdsf:trixie", "pybdsf:bookworm"]),
        (EnvironmentQuery(text="PYBDSF"), ["pybdsf:trixie", "pybdsf:bookworm"]),
        (EnvironmentQuery(python=("bdsf",), variant="bookworm"), ["pybdsf:bookworm"]),
    ],
)
def test_environment_queries(query: EnvironmentQuery, expected: list[str]) -> None:
    found = CatalogueIndex.of(DOCUMENT).environments(query)
    assert [e["id"] for e in found] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (WorkflowQuery(uses=("pyvo",)), ["tap"]),
        (WorkflowQuery(uses=("astropy>=8",)), ["quicklook"]),
        (WorkflowQuery(runnable=True), ["quicklook"]),
        (WorkflowQuery(environment="pybdsf", runnable=False), ["tap"]),
        (WorkflowQuery(environment="base"), []),
        (WorkflowQuery(environment="pybdsf:trixie", runnable=True), ["quicklook"]),
        (WorkflowQuery(environment="pybdsf:bookworm"), []),
        (WorkflowQuery(variant="bookworm"), []),
    ],
)
def test_workflow_queries(query: WorkflowQuery, expected: list[str]) -> None:
    assert [w["name"] for w in CatalogueIndex.of(DOCUMENT).workflows(query)] == expected


@pytest.mark.parametrize("condition", ["bdsf >>= 1", "bdsf[extra]", "bdsf @ https://x/y.whl"])
def test_a_malformed_condition_is_a_query_error(condition: str) -> None:
    with pytest.raises(QueryError, match="bdsf"):
        CatalogueIndex.of(DOCUMENT).environments(EnvironmentQuery(python=(condition,)))


def test_the_page_needs_no_javascript_and_escapes_the_document() -> None:
    page = render_page(DOCUMENT, "")
    assert "<script" not in page.lower()
    assert "PYBDSF &lt;env&gt;" in page and "<b>sources</b>" not in page
    assert 'href="launch/quicklook"' in page and 'href="launch/tap"' not in page
    assert "failed on sha256:abab: notebook x, cell 3" in page
    assert "<details><summary>Python packages (2)</summary>" in page
    assert 'id="environment-pybdsf:bookworm"' in page
    assert (
        "bookworm (Debian bookworm)</td>" in page and "trixie (Debian trixie), the default" in page
    )


def test_a_launch_spawns_the_environment_server_then_pulls(monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/")
    url = launch_url(
        "ana b", DOCUMENT["workflows"][0], DOCUMENT["environments"][1], "http://10.0.0.1:9"
    )
    path, _, query = url.partition("?")
    assert path == "/hub/spawn/ana%20b/pybdsf-trixie"
    # DockerSpawner's choice (image) and KubeSpawner's (profile, its variant option)
    assert "image=pybdsf+%C2%B7+Python+3.13%2C+Debian+trixie" in query
    assert "&profile=pybdsf&profile-option-pybdsf--variant=trixie&" in query
    assert (
        "next=%2Fuser%2Fana%2520b%2Fpybdsf-trixie%2Fgit-pull%3Frepo%3Dhttp%253A%252F%252F10.0.0.1"
        in query
    )
    assert (
        "urlpath%3Dlab%252Fworkspaces%252Fquicklook%252Ftree%252Fquicklook%252Fquicklook.ipynb"
        in query
    )


# -- the real service, over HTTP ---------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("catalogue")
    document = folder / "catalogue.json"
    document.write_text(json.dumps(DOCUMENT))
    port = free_port()
    env = {
        **os.environ,
        "JUPYTERHUB_SERVICE_PREFIX": "/services/catalogue/",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
        "JUPYTERHUB_API_TOKEN": "t" * 32,
        "JUPYTERHUB_CLIENT_ID": "service-catalogue",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubimages.services.catalogue.app",
            "--document",
            str(document),
            "--port",
            str(port),
            "--git-url",
            "http://10.0.0.1:9",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}/services/catalogue/"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and fetch(base)[0] != 200:
            assert process.poll() is None, "the service exited"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)
    except OSError:
        return 0, b"", {}


def test_the_service_answers_queries(service: str) -> None:
    status, body, _ = fetch(service + "api/environments?package=bdsf%3E%3D1.14")
    assert status == 200
    assert [e["id"] for e in json.loads(body)] == ["pybdsf:trixie", "pybdsf:bookworm"]
    status, body, _ = fetch(service + "api/environments?package=bdsf&variant=bookworm")
    assert [e["id"] for e in json.loads(body)] == ["pybdsf:bookworm"]
    status, body, _ = fetch(service + "api/workflows?uses=pyvo")
    assert [w["name"] for w in json.loads(body)] == ["tap"]
    status, body, _ = fetch(service + "api/workflows?runnable=true")
    assert [w["name"] for w in json.loads(body)] == ["quicklook"]
    assert fetch(service + "api/environments?package=bdsf%3E%3E1")[0] == 400
    assert json.loads(fetch(service + "api/schema")[1]) == SCHEMA
    assert json.loads(fetch(service + "api/catalogue")[1]) == DOCUMENT
    status, body, _ = fetch(service + "?package=bdsf%3E%3D1.14")
    assert status == 200 and b"environment-pybdsf:trixie" in body
    assert b"environment-old" not in body
    status, body, _ = fetch(service + "?variant=bookworm")
    assert b"environment-pybdsf:bookworm" in body and b"environment-pybdsf:trixie" not in body


def test_a_launch_needs_the_hub_login(service: str) -> None:
    status, _, headers = fetch(service + "launch/quicklook")
    assert status == 302
    assert "/hub/api/oauth2/authorize" in headers["Location"]


# -- the real git server -----------------------------------------------------------------------


def test_the_git_server_serves_clones_and_refuses_pushes(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("a\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(served / "w.git")], check=True)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubimages.services.gitserver",
            "--root",
            str(served),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    )
    try:
        url = f"http://127.0.0.1:{port}/w.git"
        deadline = time.monotonic() + 20
        while fetch(f"{url}/info/refs?service=git-upload-pack")[0] != 200:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)
        subprocess.run(["git", "clone", "-q", url, str(tmp_path / "clone")], check=True)
        assert (tmp_path / "clone" / "a.txt").read_text() == "a\n"
        push = subprocess.run(
            ["git", "push", url, "HEAD:refs/heads/evil"],
            cwd=tmp_path / "clone",
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert push.returncode != 0 and "403" in push.stderr
        assert fetch(f"{url}/HEAD")[0] == 403
        assert (
            fetch(f"http://127.0.0.1:{port}/nope.git/info/refs?service=git-upload-pack")[0] == 404
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("service", ["gitserver", "catalogue.app"])
def test_a_service_ends_when_the_hub_that_started_it_is_killed(
    tmp_path: Path, service: str
) -> None:
    """A stand-in for the hub (a shell) starts the service and is killed with SIGKILL."""
    document = tmp_path / "catalogue.json"
    document.write_text(json.dumps(DOCUMENT))
    port = free_port()
    args = {
        "gitserver": f"--root {tmp_path} --host 127.0.0.1 --port {port}",
        "catalogue.app": f"--document {document} --port {port} --git-url http://10.0.0.1:9",
    }[service]
    pid_file = tmp_path / "pid"
    hub = subprocess.Popen(
        [
            "sh",
            "-c",
            f"{sys.executable} -m hubimages.services.{service} {args} & echo $! > {pid_file}; wait",
        ]
    )
    deadline = time.monotonic() + 20
    while not (pid_file.is_file() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    while fetch(f"http://127.0.0.1:{port}/")[0] == 0:
        assert time.monotonic() < deadline, "the service never answered"
        time.sleep(0.1)
    hub.kill()
    hub.wait(timeout=10)
    deadline = time.monotonic() + 15
    try:
        while Path(f"/proc/{child}").exists() and "zombie" not in _state(child):
            assert time.monotonic() < deadline, f"{service} outlived the hub"
            time.sleep(0.1)
    finally:
        if "zombie" not in _state(child):
            os.kill(child, signal.SIGKILL)  # a failed test leaves nothing running


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_the_hub_configuration_loads_into_the_real_jupyterhub(tmp_path: Path) -> None:
    """Both services on the hub's address, the user role that reaches the catalogue, named
    servers: as JupyterHub itself reads the lines."""
    service = CatalogueService(tmp_path / "catalogue.json", tmp_path / "git", Access.LOGIN)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text('c.JupyterHub.hub_ip = "127.0.0.2"\n' + service.config())
    hub = JupyterHub(config=PyFileConfigLoader(config.name, path=str(tmp_path)).load_config())
    catalogue, git = hub.services
    assert catalogue["name"] == "catalogue" and catalogue["url"].startswith("http://127.0.0.1:")
    assert catalogue["command"][catalogue["command"].index("--access") + 1] == "login"
    git_url = catalogue["command"][catalogue["command"].index("--git-url") + 1]
    assert git_url.startswith("http://127.0.0.2:") and "url" not in git
    assert git["command"][git["command"].index("--host") + 1] == "127.0.0.2"
    assert hub.allow_named_servers
    assert {
        "name": "user",
        "scopes": ["self", "access:services!service=catalogue"],
    } in hub.load_roles


@pytest.mark.parametrize("name", ["scientist", "sdc1-trixie", "Ana B.", "pybdsf-bookworm"])
def test_the_e2e_names_a_server_container_as_dockerspawner_does(name: str) -> None:
    assert spawner_escape(name) == DockerSpawner._escape(name)
