"""Server start options: JUPYTER_PORT, DOCKER_STACKS_JUPYTER_CMD, NOTEBOOK_ARGS, RESTARTABLE,
JUPYTERHUB_API_TOKEN (jupyterhub-singleuser)."""

import time
import uuid

import pytest

from tests.containers.helpers import (
    exec_text,
    http_get,
    logs,
    processes,
    wait_for_api,
    wait_for_log,
)

# Random per run: a fixed token in the code would read as a credential.
TOKEN = uuid.uuid4().hex


@pytest.mark.parametrize("user", [None, "root"])
def test_jupyter_port(containers, user):
    container = containers.server(port=9999, user=user, environment={"JUPYTER_PORT": "9999"})
    with pytest.raises(OSError):
        http_get(f"http://{container.ip}:8888/api", timeout=2)


@pytest.mark.parametrize(
    ("command", "process", "page"),
    [("server", "jupyter-server", None), ("notebook", "jupyter-notebook", "tree")],
)
def test_docker_stacks_jupyter_cmd(containers, command, process, page):
    container = containers.server(
        environment={
            "DOCKER_STACKS_JUPYTER_CMD": command,
            "NOTEBOOK_ARGS": f"--IdentityProvider.token={TOKEN}",
        }
    )
    assert any(process in line for line in processes(container)), processes(container)
    assert not any("jupyter-lab" in line for line in processes(container))
    if page:
        assert http_get(f"http://{container.ip}:8888/{page}", token=TOKEN).status == 200


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
    code, out = exec_text(container, "ps -eo pid=,args=")
    assert code == 0, out
    pids = [int(line.split()[0]) for line in out.splitlines() if "jupyter-lab" in line]
    assert pids, out
    return pids[0]


def test_restartable(containers):
    container = containers.server(environment={"RESTARTABLE": "yes"})
    first = server_pid(container)
    exec_text(container, f"kill {first}")
    wait_for_log(container, r"server exited with code .*; restarting it")
    wait_for_api(container)
    assert server_pid(container) != first
    container.reload()
    assert container.status == "running"


def test_not_restartable_by_default(containers):
    container = containers.server()
    exec_text(container, f"kill {server_pid(container)}")
    assert container.wait(timeout=30)["StatusCode"] == 0


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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        container.reload()
        lines = processes(container) if container.status == "running" else []
        if any("jupyterhub-singleuser --debug" in line for line in lines):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"jupyterhub-singleuser was not launched:\n{logs(container)}")
    assert not any("jupyter-lab" in line for line in lines)
