"""Server start options: JUPYTER_PORT, DOCKER_STACKS_JUPYTER_CMD, NOTEBOOK_ARGS, RESTARTABLE,
GEN_CERT, JUPYTERHUB_API_TOKEN (jupyterhub-singleuser). start-notebook.py prints the command
it runs to stdout as `Executing: ...`, as docker-stacks' does."""

import ssl
import urllib.request
import uuid

import pytest

from hubimages.core.waiting import wait_until
from tests.containers.helpers import (
    container_ip,
    exec_text,
    http_get,
    logs,
    problem_lines,
    processes,
    wait_for_api,
    wait_for_exit,
    wait_for_log,
)

# Random per run: a fixed token in the code would read as a credential.
TOKEN = uuid.uuid4().hex


@pytest.mark.owner_only
@pytest.mark.parametrize("user", [None, "root"])
def test_jupyter_port(containers, user):
    container = containers.server(port=9999, user=user, environment={"JUPYTER_PORT": "9999"})
    with pytest.raises(OSError):
        http_get(f"http://{container.ip}:8888/api", timeout=2)


@pytest.mark.owner_only
@pytest.mark.parametrize(
    ("command", "process", "page"),
    [
        (None, "jupyter-lab", "lab"),
        ("lab", "jupyter-lab", "lab"),
        ("server", "jupyter-server", None),
        ("notebook", "jupyter-notebook", "tree"),
    ],
)
def test_docker_stacks_jupyter_cmd(containers, command, process, page):
    environment = {"NOTEBOOK_ARGS": f"--IdentityProvider.token={TOKEN}"}
    if command:
        environment["DOCKER_STACKS_JUPYTER_CMD"] = command
    container = containers.server(environment=environment)
    lines = processes(container)
    assert any(process in line for line in lines), lines
    others = {"jupyter-lab", "jupyter-server", "jupyter-notebook"} - {process}
    assert not any(other in line for line in lines for other in others), lines
    stdout = logs(container, stderr=False)
    assert f"Executing: jupyter {command or 'lab'} --IdentityProvider.token=" in stdout
    if page:
        assert http_get(f"http://{container.ip}:8888/{page}", token=TOKEN).status == 200


@pytest.mark.owner_only
def test_an_unknown_jupyter_cmd_is_one_clear_error(containers):
    # NbClassic is not installed (README.md): one line, a non-zero exit, no server.
    result = containers.run(None, environment={"DOCKER_STACKS_JUPYTER_CMD": "nbclassic"})
    assert result.exit_code == 1
    errors = problem_lines(result.output)
    assert len(errors) == 1, result.output
    assert "DOCKER_STACKS_JUPYTER_CMD=nbclassic: no jupyter-nbclassic in this image" in errors[0]


@pytest.mark.owner_only
def test_notebook_args(containers):
    container = containers.server(
        base_url="/prefix/",
        environment={
            "NOTEBOOK_ARGS": f"--ServerApp.base_url=/prefix/ --IdentityProvider.token='{TOKEN}'"
        },
    )
    base = f"http://{container.ip}:8888/prefix"
    assert http_get(f"{base}/api/status", token=TOKEN).status == 200
    assert http_get(f"{base}/api/status", token=TOKEN[::-1]).status == 403


def server_pid(container) -> int:
    # The server's Python process, not run-one-constantly (whose arguments name jupyter-lab).
    code, out = exec_text(container, "ps -eo pid=,args=")
    assert code == 0, out
    pids = [
        int(line.split()[0])
        for line in out.splitlines()
        if line.split()[1].endswith("python") and "jupyter-lab" in line
    ]
    assert pids, out
    return pids[0]


@pytest.mark.owner_only
def test_restartable(containers):
    container = containers.server(environment={"RESTARTABLE": "yes"})
    assert "Executing: run-one-constantly jupyter lab" in logs(container, stderr=False)
    first = server_pid(container)
    exec_text(container, f"kill {first}")
    wait_for_log(container, r"run-one-constantly: \S*jupyter-lab exited with code 0; starting")
    wait_for_api(container)
    assert server_pid(container) != first
    container.reload()
    assert container.status == "running"
    # docker stop still stops it, without SIGKILL (137): the loop ends with the server, whose
    # code is 0 or, when the signal ends it, 143.
    container.stop(timeout=20)
    assert wait_for_exit(container) in {0, 143}, logs(container)


@pytest.mark.owner_only
def test_not_restartable_by_default(containers):
    container = containers.server()
    exec_text(container, f"kill {server_pid(container)}")
    assert container.wait(timeout=30)["StatusCode"] == 0


@pytest.mark.owner_only
def test_gen_cert_serves_https_with_a_private_self_signed_key(containers):
    container = containers.start(environment={"GEN_CERT": "yes"})
    context = ssl._create_unverified_context()  # noqa: S323 - self-signed by design
    url = f"https://{container_ip(container)}:8888/api"

    def answered() -> bool:
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    assert wait_until(answered, 60, interval=0.2), logs(container)
    _, out = exec_text(container, "stat -c '%a %U' ~/.local/share/jupyter/notebook.pem")
    assert out.split() == ["600", "jovyan"], out
    assert problem_lines(logs(container)) == []


def test_jupyterhub_api_token_starts_singleuser(containers):
    # No hub is running: only that jupyterhub-singleuser (with NOTEBOOK_ARGS) was launched.
    container = containers.start(
        environment={
            "JUPYTERHUB_API_TOKEN": "test-token",
            "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
            "JUPYTERHUB_SERVICE_PREFIX": "/user/test/",
            "JUPYTERHUB_USER": "test",
            "NOTEBOOK_ARGS": "--debug",
        }
    )

    def launched() -> bool:
        container.reload()
        lines = processes(container) if container.status == "running" else []
        return any("jupyterhub-singleuser --debug" in line for line in lines)

    if not wait_until(launched, 30, interval=0.2):
        pytest.fail(f"jupyterhub-singleuser was not launched:\n{logs(container)}")
    assert not any("jupyter-lab" in line for line in processes(container))
    stdout = logs(container, stderr=False).splitlines()
    assert stdout[0].startswith("WARNING: using start-singleuser.py instead of start-notebook.py")
    assert stdout[1] == "Executing: jupyterhub-singleuser --debug"
