"""Image layout and the defaults of a plain start (one shared server container, read-only)."""

import json
import re

from hubimages.core.waiting import wait_until
from tests.containers.helpers import (
    START_UP_DONE,
    exec_text,
    http_get,
    logs,
    problem_lines,
    processes,
    token_from_logs,
    wait_for_log,
)


def test_image_config(image):
    config = image.attrs["Config"]
    assert config["User"] == "1000"
    assert config["WorkingDir"] == "/home/jovyan"
    # By path: PATH starts with the user-writable venv (test_security.py).
    assert config["Entrypoint"] == ["/usr/bin/tini", "-g", "--", "/usr/local/bin/start.sh"]
    assert config["Cmd"] == ["start-notebook.py"]
    assert "8888/tcp" in config["ExposedPorts"]
    # docker-stacks' timings: every 3 s, 1 s timeout, 3 s start period, 3 retries.
    health = config["Healthcheck"]
    assert health["Test"] == ["CMD", "/usr/local/bin/docker-healthcheck"]
    seconds = 1_000_000_000
    assert (health["Interval"], health["Timeout"], health["StartPeriod"], health["Retries"]) == (
        3 * seconds,
        1 * seconds,
        3 * seconds,
        3,
    )
    env = dict(item.split("=", 1) for item in config["Env"])
    # docker-stacks' paths: /opt/conda/bin first (the venv under its docker-stacks name).
    assert env["PATH"].split(":")[0] == "/opt/conda/bin"
    expected = {
        "NB_USER": "jovyan",
        "NB_UID": "1000",
        "NB_GID": "100",
        "HOME": "/home/jovyan",
        "SHELL": "/bin/bash",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "JUPYTER_PORT": "8888",
        "CONDA_DIR": "/opt/venv",
        "VIRTUAL_ENV": "/opt/venv",
    }
    assert {key: env.get(key) for key in expected} == expected


def test_user_uid_gid_home_workdir(server_host):
    user = server_host.user()
    assert (user.name, user.uid, user.gid, user.group) == ("jovyan", 1000, 100, "users")
    assert user.home == "/home/jovyan"
    assert user.shell == "/bin/bash"
    home = server_host.file("/home/jovyan")
    assert (home.uid, home.gid) == (1000, 100)
    assert server_host.check_output("pwd") == "/home/jovyan"


def test_tini_is_pid_1(server_host):
    assert server_host.process.get(pid=1).comm == "tini"


def test_python_is_debian_python_in_venv(server_host, variant_python):
    out = server_host.check_output(
        "python -c 'import os, sys; print(os.path.realpath(sys.prefix), sys.base_prefix,"
        ' "%d.%d" % sys.version_info[:2])\''
    )
    assert out == f"/opt/venv /usr {variant_python}"
    assert server_host.check_output("readlink -f /opt/conda") == "/opt/venv"
    assert server_host.check_output("command -v jupyter") == "/opt/conda/bin/jupyter"


def test_no_sudo_by_default(server_host):
    assert server_host.run("sudo -n true").rc != 0
    assert server_host.run("ls /etc/sudoers.d/start-sh-grant").rc != 0


def listening(container, table: str) -> set[str]:
    """Local addresses of the LISTEN (0A) sockets in /proc/net/<table>."""
    code, out = exec_text(container, f"cat /proc/net/{table}")
    assert code == 0, out
    return {line.split()[1] for line in out.splitlines()[1:] if line.split()[3] == "0A"}


def test_server_listens_on_all_interfaces(server):
    # IPv4 0.0.0.0:8888 and IPv6 [::]:8888 (docker-stacks' ServerApp.ip = "").
    assert "00000000:22B8" in listening(server, "tcp")
    assert "0" * 32 + ":22B8" in listening(server, "tcp6")
    # ...and reachable from outside the container, on its bridge IP.
    assert http_get(f"http://{server.ip}:8888/api").status == 200


def test_token_is_required(server):
    token = token_from_logs(server)
    base = f"http://{server.ip}:8888"
    assert http_get(f"{base}/api/status").status == 403
    lab = http_get(f"{base}/lab")
    assert lab.status == 302
    assert "/login" in lab.headers["Location"]
    assert http_get(f"{base}/api/status", token=token).status == 200
    assert http_get(f"{base}/lab", token=token).status == 200


def test_root_dir_is_home(server):
    token = token_from_logs(server)
    contents = http_get(f"http://{server.ip}:8888/api/contents", token=token).json()
    assert contents["type"] == "directory"
    assert "Serving notebooks from local directory: /home/jovyan" in logs(server)


def test_lab_asks_nobody_about_news(server):
    """JupyterLab's news announcements are disabled (as in docker-stacks): the lab page the
    server sends lists the plugin among the disabled ones."""
    token = token_from_logs(server)
    page = http_get(f"http://{server.ip}:8888/lab", token=token)
    assert page.status == 200
    config = re.search(
        rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.body, re.S
    )
    assert config is not None, page.body[:300]
    disabled = json.loads(config.group(1))["disabledExtensions"]
    assert "@jupyterlab/apputils-extension:announcements" in disabled


def test_server_starts_a_python_kernel(server):
    token = token_from_logs(server)
    base = f"http://{server.ip}:8888/api/kernels"
    created = http_get(base, token=token, method="POST", body={"name": "python3"})
    assert created.status == 201, created.body
    kernel = created.json()["id"]
    try:
        # Without a websocket client the state stays "starting": the process is what tells.
        started = wait_until(
            lambda: any(f"kernel-{kernel}.json" in line for line in processes(server)), 20, 0.2
        )
        assert started, f"no kernel process for {kernel}: {processes(server)}"
    finally:
        http_get(f"{base}/{kernel}", token=token, method="DELETE")


def test_python_kernel_executes_code(server):
    code, out = exec_text(
        server,
        "python -c 'from jupyter_client.manager import start_new_kernel\n"
        'km, kc = start_new_kernel(kernel_name="python3")\n'
        'reply = kc.execute_interactive("print(6 * 7)", timeout=30)\n'
        'print(reply["content"]["status"])\n'
        "kc.stop_channels(); km.shutdown_kernel(now=True)'",
    )
    assert code == 0, out
    assert out.split()[-2:] == ["42", "ok"], out


def test_logs_go_to_stderr(server):
    # stdout: only start-notebook.py's `Executing: ...` line, as docker-stacks prints it.
    assert logs(server, stdout=False, stderr=True).strip()
    assert logs(server, stdout=True, stderr=False) == "Executing: jupyter lab\n"


def test_clean_start_has_no_warnings_or_errors(containers):
    # Own container: requests of the other tests (403s) are logged as warnings by design.
    container = containers.server()
    wait_for_log(container, START_UP_DONE)  # lines logged just after the server is up
    assert problem_lines(logs(container)) == []
