"""The rucio stack: the rucio CLI, the client and extension configs that
before-notebook.d/50-rucio.sh generates from RUCIO_* variables, and the Rucio JupyterLab
extension. No Rucio server is needed here: these tests check what the client and the extension
read. The round trips against a real one are in test_rucio_round_trips.py,
test_rucio_extension.py and test_rucio_faults.py.
"""

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.containers.helpers import http_get, logs, problem_lines, token_from_logs

HOST = "https://rucio.example.org"
COMMON = {"RUCIO_HOST": HOST, "RUCIO_ACCOUNT": "alice"}
CONFDIR = "/home/jovyan/.config/rucio"

# What the client reads: the file RUCIO_CONFIG names, parsed by rucio.common.config, plus the
# generated extension config and whether Jupyter will look in its folder.
READ_CONFIG = textwrap.dedent(
    """
    import json, os, stat
    from rucio.common.config import get_config
    path = os.environ.get("RUCIO_CONFIG")
    info = os.stat(path)
    ext = os.path.expanduser("~/.config/rucio/jupyter")
    with open(os.path.join(ext, "jupyter_server_config.json")) as f:
        server = json.load(f)
    print(json.dumps({
        "path": path, "mode": stat.S_IMODE(info.st_mode), "owner": [info.st_uid, info.st_gid],
        "client": dict(get_config().items("client")), "server": server,
        "jupyter_path": os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep),
    }))
    """
)

AUTH_CASES = {
    "userpass": (
        {"RUCIO_USERNAME": "alice", "RUCIO_PASSWORD": "s3cr%t;#x"},
        {"username": "alice", "password": "s3cr%t;#x"},
    ),
    "x509": (
        {"RUCIO_CLIENT_CERT": "/certs/usercert.pem", "RUCIO_CLIENT_KEY": "/certs/userkey.pem"},
        {"client_cert": "/certs/usercert.pem", "client_key": "/certs/userkey.pem"},
    ),
    "x509_proxy": (
        {"X509_USER_PROXY": "/tmp/x509up_u1000"},
        {"client_x509_proxy": "/tmp/x509up_u1000"},
    ),
    "oidc": (
        {"RUCIO_OIDC_TOKEN_FILE": "/var/run/secrets/rucio/token", "RUCIO_OIDC_AUDIENCE": "rucio"},
        {"auth_token_file_path": "/var/run/secrets/rucio/token", "oidc_audience": "rucio"},
    ),
}


def read_config(containers, environment, **kwargs) -> tuple[dict, str]:
    result = containers.run(["python", "-c", READ_CONFIG], environment=environment, **kwargs)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def hook_lines(text: str) -> list[str]:
    """rucio-configure's lines, in start.sh's format: LEVEL[date time] rucio-configure: ..."""
    return [
        line
        for line in text.splitlines()
        if re.match(r"^(INFO|WARNING|ERROR)\[[^]]+\] rucio-configure: ", line)
    ]


def test_rucio_cli_runs(containers):
    result = containers.run(["rucio", "--version"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\b\d+\.\d+\.\d+\b", result.output)


@pytest.mark.parametrize("auth_type", sorted(AUTH_CASES))
def test_generated_client_config_is_what_the_client_reads(containers, auth_type):
    given, expected = AUTH_CASES[auth_type]
    out, stderr = read_config(containers, {**COMMON, "RUCIO_AUTH_TYPE": auth_type, **given})
    assert out["path"] == f"{CONFDIR}/rucio.cfg"
    assert out["client"] == {
        "rucio_host": HOST,
        "auth_host": HOST,
        "account": "alice",
        "auth_type": auth_type,
        "ca_cert": "/etc/ssl/certs/ca-certificates.crt",
        "request_retries": "3",
        **expected,
    }
    assert out["mode"] == 0o600
    assert out["owner"] == [1000, 100]
    assert [line for line in hook_lines(stderr) if "INFO" in line] == hook_lines(stderr)
    assert len(hook_lines(stderr)) == 1


def test_oidc_token_from_the_environment_goes_to_a_private_file(containers):
    env = {**COMMON, "RUCIO_AUTH_TYPE": "oidc", "RUCIO_ACCESS_TOKEN": "eyJ.token"}
    command = READ_CONFIG + "print(open(os.path.expanduser('~/.config/rucio/token')).read())"
    result = containers.run(["python", "-c", command], environment=env)
    assert result.exit_code == 0, result.output
    first, token = result.stdout.strip().splitlines()[-2:]
    out = json.loads(first)
    assert out["client"]["auth_token_file_path"] == f"{CONFDIR}/token"
    assert token == env["RUCIO_ACCESS_TOKEN"]
    instance = out["server"]["RucioConfig"]["instances"][0]
    assert (instance["oidc_auth"], instance["oidc_env_name"]) == ("env", "RUCIO_ACCESS_TOKEN")


def test_extension_config_from_environment(containers):
    env = {
        **COMMON,
        "RUCIO_AUTH_TYPE": "userpass",
        "RUCIO_USERNAME": "a",
        "RUCIO_PASSWORD": "b",
        "RUCIO_AUTH_HOST": "https://auth.example.org/",
        "RUCIO_NAME": "ska.example.org",
        "RUCIO_DISPLAY_NAME": "SKA",
        "RUCIO_DESTINATION_RSE": "SKA-RSE",
        "RUCIO_RSE_MOUNT_PATH": "/rucio",
        "RUCIO_PATH_BEGINS_AT": "4",
        "RUCIO_WILDCARD_ENABLED": "1",
        "RUCIO_SITE_NAME": "SKA-SITE",
    }
    out, _ = read_config(containers, env)
    config = out["server"]["RucioConfig"]
    assert config["default_instance"] == "ska.example.org"
    assert config["default_auth_type"] == "userpass"
    assert config["instances"] == [
        {
            "name": "ska.example.org",
            "display_name": "SKA",
            "rucio_base_url": HOST,
            "rucio_auth_url": "https://auth.example.org",
            "rucio_ca_cert": "/etc/ssl/certs/ca-certificates.crt",
            "mode": "replica",
            "destination_rse": "SKA-RSE",
            "rse_mount_path": "/rucio",
            "path_begins_at": 4,
            "site_name": "SKA-SITE",
            "wildcard_enabled": True,
        }
    ]
    assert out["client"]["auth_host"] == "https://auth.example.org/"
    assert out["jupyter_path"][0] == f"{CONFDIR}/jupyter"


def test_client_proxy_reaches_the_storage_clients(containers):
    """Rucio's storage clients (WebDAV, gfal) present X509_USER_PROXY whenever the session holds
    no OIDC token, so RUCIO_CLIENT_PROXY is exported as that with every auth type."""
    env = {
        **COMMON,
        "RUCIO_AUTH_TYPE": "userpass",
        "RUCIO_USERNAME": "a",
        "RUCIO_PASSWORD": "b",
        "RUCIO_CLIENT_PROXY": "/run/secrets/rucio/x509up",
    }
    result = containers.run(["sh", "-c", 'echo "$X509_USER_PROXY"'], environment=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["/run/secrets/rucio/x509up"]
    (line,) = hook_lines(result.stderr)
    assert "INFO" in line and "X509_USER_PROXY=/run/secrets/rucio/x509up" in line


def test_started_as_root_files_belong_to_the_user(containers):
    env = {**COMMON, "RUCIO_AUTH_TYPE": "userpass", "RUCIO_USERNAME": "a", "RUCIO_PASSWORD": "b"}
    out, _ = read_config(containers, env, user="root")
    assert out["owner"] == [1000, 100]
    assert out["client"]["username"] == "a"


def test_given_rucio_config_is_left_alone(containers):
    env = {**COMMON, "RUCIO_AUTH_TYPE": "oidc", "RUCIO_CONFIG": "/etc/rucio-site.cfg"}
    result = containers.run(
        ["sh", "-c", 'echo "$RUCIO_CONFIG"; ls ~/.config/rucio'], environment=env
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["/etc/rucio-site.cfg", "jupyter"]


def test_unconfigured_start_says_so_once(server, server_host):
    lines = hook_lines(logs(server))
    assert len(lines) == 1
    assert "RUCIO_HOST is not set" in lines[0]
    assert not server_host.file(f"{CONFDIR}/rucio.cfg").exists


def test_missing_settings_give_one_clear_line_and_server_starts(containers):
    env = {"RUCIO_HOST": HOST, "RUCIO_AUTH_TYPE": "userpass", "RUCIO_MODE": "replica"}
    server = containers.server(environment=env)  # waits for /api
    lines = hook_lines(logs(server))
    assert len(lines) == 1, lines
    for name in ("RUCIO_ACCOUNT", "RUCIO_USERNAME", "RUCIO_PASSWORD", "RUCIO_DESTINATION_RSE"):
        assert name in lines[0]
    assert "WARNING" in lines[0]
    assert problem_lines(logs(server)) == lines
    assert server.exec_run(["test", "-e", f"{CONFDIR}/rucio.cfg"]).exit_code != 0


def test_stale_credentials_are_removed_at_next_start(containers, docker_client):
    """A persistent home keeps the files of an earlier start: without RUCIO_* they go."""
    env = {**COMMON, "RUCIO_AUTH_TYPE": "userpass", "RUCIO_USERNAME": "a", "RUCIO_PASSWORD": "b"}
    first = containers.start(["true"], environment=env)
    assert first.wait(timeout=60)["StatusCode"] == 0
    home = first.commit(conf={"Labels": {"hubimages.test": "1"}})
    try:
        second = docker_client.containers.create(
            home.id,
            ["find", CONFDIR, "-type", "f"],
            environment={"RUCIO_HOST": ""},  # the commit keeps the first container's variables
            labels={"hubimages.test": "1"},
        )
        containers.containers.append(second)
        second.start()
        assert second.wait(timeout=60)["StatusCode"] == 0, logs(second)
        assert logs(second, stderr=False).split() == []
    finally:
        containers.cleanup()
        docker_client.images.remove(home.id, force=True)


# --- the JupyterLab extension ------------------------------------------------------------


# Built on the host from the pinned sdist (images/rucio/local-wheels.yaml): the tests fail, never
# skip, when it is missing.
DECLARED = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "images" / "rucio" / "local-wheels.yaml").read_text()
)["rucio-jupyterlab"]


def test_extension_is_the_declared_local_build_next_to_notebook_7(containers):
    command = (
        "import importlib.metadata as m, rucio_jupyterlab; "
        "print(m.version('rucio-jupyterlab'), m.version('notebook'))"
    )
    result = containers.run(["python", "-c", command])
    assert result.exit_code == 0, result.output
    extension, notebook = result.stdout.split()[-2:]
    assert extension == f"{DECLARED['version']}+{DECLARED['label']}"
    assert int(notebook.split(".")[0]) >= 7


def test_server_and_lab_extensions_are_enabled(containers):
    result = containers.run(
        ["sh", "-c", "jupyter server extension list 2>&1; jupyter labextension list 2>&1"]
    )
    assert result.exit_code == 0, result.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)  # colours
    assert re.search(r"^\s*rucio_jupyterlab\.server enabled$", text, re.MULTILINE), text
    assert re.search(r"^\s*rucio_jupyterlab\.server\s.*\bOK$", text, re.MULTILINE), text
    assert re.search(r"^\s*rucio-jupyterlab v\S+ enabled OK\b", text, re.MULTILINE), text


def test_instances_endpoint_lists_the_configured_instance(containers):
    env = {
        **COMMON,
        "RUCIO_AUTH_TYPE": "oidc",
        "RUCIO_NAME": "ska.example.org",
        "RUCIO_DISPLAY_NAME": "SKA Rucio",
    }
    server = containers.server(environment=env)
    token = token_from_logs(server)
    # The session's token file, as an OIDC hub's session has it before its server answers.
    made = server.exec_run(["sh", "-c", "umask 077; echo eyJ.e30.x > /tmp/bt_u1000"], user="jovyan")
    assert made.exit_code == 0, made.output
    response = http_get(f"http://{server.ip}:8888/rucio-jupyterlab/instances", token=token)
    assert response.status == 200, response.body
    body = response.json()
    names = [instance["name"] for instance in body["instances"]]
    assert names == ["ska.example.org"]
    assert body["instances"][0]["display_name"] == "SKA Rucio"
    assert problem_lines(logs(server)) == []


def test_the_icon_font_comes_from_the_image_not_from_google(containers):
    """The extension's Material Icons: its CSS import of Google Fonts is dropped from the wheel
    and the lab serves Debian's font through custom.css, so an offline hub draws the icons and
    the browser logs no error."""
    found = containers.run(
        [
            "grep",
            "-rlF",
            "fonts.googleapis.com",
            "/opt/venv/share/jupyter/labextensions/rucio-jupyterlab",
        ]
    )
    assert found.exit_code == 1, found.output  # grep: 1 = no match, 2 = no such folder
    server = containers.server()  # no Rucio settings: the lab alone
    token = token_from_logs(server)
    page = http_get(f"http://{server.ip}:8888/lab", token=token)
    assert page.status == 200
    assert b"/custom/custom.css" in page.body
    css = http_get(f"http://{server.ip}:8888/custom/custom.css", token=token)
    assert css.status == 200, css.body
    assert re.search(rb'font-family: "Material Icons";\s*font-style', css.body)
    url = re.search(rb'url\("([^"]+)"\)', css.body)
    assert url is not None, css.body
    font = http_get(f"http://{server.ip}:8888/custom/{url.group(1).decode()}", token=token)
    assert font.status == 200
    assert font.body[:4] == b"wOF2", font.body[:16]
    assert problem_lines(logs(server)) == []


@pytest.mark.parametrize("auth_type", ["userpass", "x509", "x509_proxy"])
def test_the_extension_starts_logged_in_with_the_given_credentials(containers, auth_type):
    """Credentials the profile gives are stored as the panel's login form would store them, so
    the panel opens logged in (the front end's first GET of /auth finds them)."""
    env = {**COMMON, "RUCIO_AUTH_TYPE": auth_type, **AUTH_CASES[auth_type][0], "RUCIO_NAME": "ska"}
    server = containers.server(environment=env)
    token = token_from_logs(server)
    response = http_get(
        f"http://{server.ip}:8888/rucio-jupyterlab/auth?namespace=ska&type={auth_type}", token=token
    )
    assert response.status == 200, response.body
    stored = response.json()
    assert stored["account"] == "alice"
    expected = {
        "userpass": {"username": "alice", "password": "s3cr%t;#x"},
        "x509": {"certificate": "/certs/usercert.pem", "key": "/certs/userkey.pem"},
        "x509_proxy": {"proxy": "/tmp/x509up_u1000"},
    }[auth_type]
    assert {key: stored[key] for key in expected} == expected
    assert f"extension logged in ({auth_type})" in logs(server)
    assert problem_lines(logs(server)) == []


def test_oidc_and_no_credentials_store_no_login(containers):
    env = {**COMMON, "RUCIO_AUTH_TYPE": "oidc", "RUCIO_NAME": "ska", **AUTH_CASES["oidc"][0]}
    server = containers.server(environment=env)
    token = token_from_logs(server)
    response = http_get(
        f"http://{server.ip}:8888/rucio-jupyterlab/auth?namespace=ska&type=userpass", token=token
    )
    assert response.status == 404, response.body
    assert "extension logged in" not in logs(server)


def test_the_settings_file_picker_lists_the_home_without_an_instance(containers):
    """The extension's file pickers (certificate, key, proxy paths) ask /file-browser with no
    instance: answered with the home's files, not refused (an edit of the local wheel)."""
    server = containers.server(
        environment={**COMMON, "RUCIO_AUTH_TYPE": "userpass", **AUTH_CASES["userpass"][0]}
    )
    token = token_from_logs(server)
    made = server.exec_run(["touch", "/home/jovyan/usercert.pem"], user="jovyan")
    assert made.exit_code == 0, made.output
    response = http_get(f"http://{server.ip}:8888/rucio-jupyterlab/file-browser?path=", token=token)
    assert response.status == 200, response.body
    assert {
        "type": "file",
        "name": "usercert.pem",
        "path": "/home/jovyan/usercert.pem",
    } in response.json()
