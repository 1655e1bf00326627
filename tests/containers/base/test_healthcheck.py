"""The image's HEALTHCHECK, through Docker's own health status: healthy exactly when
docker-stacks' check says so (the server in /home/$NB_USER's runtime dir answers <url>api)."""

import json

import pytest

from tests.containers.helpers import wait_for_health

PROXY = "http://proxy.invalid:3128"


def last_output(container) -> str:
    container.reload()
    return container.attrs["State"]["Health"]["Log"][-1]["Output"]


def test_becomes_healthy(containers):
    container = containers.start()
    assert wait_for_health(container) == "healthy"
    assert last_output(container).startswith("healthy: http://localhost:8888/api answered 200")


@pytest.mark.owner_only
@pytest.mark.parametrize(
    ("environment", "command", "user"),
    [
        (
            {
                "JUPYTER_PORT": "9000",
                "NOTEBOOK_ARGS": "--ServerApp.base_url=/user/someone/",
                **{
                    name: PROXY
                    for name in (
                        "http_proxy",
                        "https_proxy",
                        "HTTP_PROXY",
                        "HTTPS_PROXY",
                        "all_proxy",
                    )
                },
            },
            None,
            None,
        ),
        (
            {"GEN_CERT": "1", "JUPYTER_PORT": "7891"},
            ["start-notebook.py", "--ServerApp.base_url=/test"],
            None,
        ),
        ({"JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime"}, None, None),
        ({"RESTARTABLE": "yes"}, None, None),
        ({"NB_USER": "alice", "CHOWN_HOME": "1"}, None, "root"),
        ({"NB_USER": "alice", "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime"}, None, "root"),
    ],
    ids=[
        "port-base-url-proxy",
        "gen-cert",
        "runtime-dir",
        "restartable",
        "renamed-by-root",
        "renamed-runtime-dir",
    ],
)
def test_healthy(containers, environment, command, user):
    container = containers.start(command, environment=environment, user=user)
    assert wait_for_health(container) == "healthy"


@pytest.mark.owner_only
def test_unhealthy_when_nb_user_is_set_without_root(containers):
    # As docker-stacks: the check looks in /home/testuser, which only a root start makes.
    container = containers.start(environment={"NB_USER": "testuser", "CHOWN_HOME": "1"})
    assert wait_for_health(container, expected="unhealthy") == "unhealthy"
    assert "no *server-*.json in /home/testuser/" in last_output(container)


@pytest.mark.owner_only
def test_unhealthy_when_the_server_does_not_answer(containers):
    # A server file whose server is gone (a killed server leaves it behind).
    info = {"url": "http://localhost:1/", "pid": 1}
    runtime = "/home/jovyan/.local/share/jupyter/runtime"
    container = containers.start(
        ["sleep", "infinity"],
        files={f"{runtime}/jpserver-1.json": (json.dumps(info), 0o600, 1000, 100)},
    )
    assert wait_for_health(container, expected="unhealthy") == "unhealthy"


@pytest.mark.owner_only
def test_a_unix_socket_server_is_healthy(containers):
    # No TCP URL to ask, as docker-stacks: healthy without a request.
    container = containers.start(["start-notebook.py", "--ServerApp.sock=/tmp/jupyter.sock"])
    assert wait_for_health(container) == "healthy"
    assert "not served over HTTP(S)" in last_output(container)
