"""start.sh started as root: each NB_*/CHOWN_*/GRANT_SUDO/... variable, one test each."""

import re

import pytest

from tests.containers.helpers import exec_text, logs, problem_lines, wait_for_exit

ROOT = "root"


def run_as_root(containers, script: str, **environment: str):
    result = containers.run(["bash", "-c", script], user=ROOT, environment=environment)
    assert result.exit_code == 0, result.output
    return result


def test_defaults_as_root_drop_to_jovyan(containers):
    result = run_as_root(containers, 'id; echo "$HOME"; pwd')
    assert result.stdout.split("\n")[:3] == [
        "uid=1000(jovyan) gid=100(users) groups=100(users)",
        "/home/jovyan",
        "/home/jovyan",
    ]
    assert problem_lines(result.stderr) == []
    assert re.search(r"\] Running as jovyan: bash -c id;", result.stderr), result.stderr


def test_nb_user_gets_a_copy_of_the_home_and_jovyan_stays(containers):
    script = (
        'id; echo "$HOME"; pwd; stat -c "%U:%G" "$HOME" "$HOME/work" "$HOME/.jupyter";'
        ' ls -d /home/jovyan/work; getent passwd alice | cut -d: -f6; touch "$HOME/x"'
    )
    result = run_as_root(containers, script, NB_USER="alice")
    assert result.stdout.split() == [
        "uid=1000(alice)",
        "gid=100(users)",
        "groups=100(users)",
        "/home/alice",
        "/home/alice",
        "alice:users",
        "alice:users",
        "alice:users",
        "/home/jovyan/work",
        "/home/alice",
    ]
    assert problem_lines(result.stderr) == []
    for line in (
        "Updated the jovyan user:",
        "- username: jovyan       -> alice",
        "- home dir: /home/jovyan -> /home/alice",
        "Running as alice: bash -c",
    ):
        assert line in result.stderr


def test_nb_user_keeps_the_files_of_a_folder_bind_mounted_in_the_home(containers, tmp_path):
    """The data-loss case: renaming the user never moves nor deletes /home/jovyan."""
    (tmp_path / "foo.txt").write_text("some-content")
    tmp_path.chmod(0o777)  # the user, uid 1000, writes there
    result = containers.run(
        ["bash", "-c", 'cat "$HOME/data/foo.txt"; echo new > "$HOME/data/bar.txt"'],
        user=ROOT,
        working_dir="/home/",
        environment={"NB_USER": "user", "CHOWN_HOME": "yes", "CHOWN_HOME_OPTS": "-R"},
        volumes={str(tmp_path): {"bind": "/home/jovyan/data", "mode": "rw"}},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "some-content"
    assert (tmp_path / "foo.txt").read_text() == "some-content"
    assert (tmp_path / "bar.txt").read_text() == "new\n"  # written where the data lives


def test_nb_user_with_a_mounted_home_links_to_it(containers, tmp_path):
    (tmp_path / "notebook.ipynb").write_text("{}")
    tmp_path.chmod(0o777)
    result = containers.run(
        ["bash", "-c", 'readlink /home/alice; ls "$HOME"; touch "$HOME/new"'],
        user=ROOT,
        environment={"NB_USER": "alice"},
        volumes={str(tmp_path): {"bind": "/home/jovyan", "mode": "rw"}},
    )
    assert result.exit_code == 0, result.output
    link, *listing = result.stdout.split()
    assert link == "/home/jovyan"
    assert "notebook.ipynb" in listing  # (images' hooks may add their own files)
    assert {"new", "notebook.ipynb"} <= {p.name for p in tmp_path.iterdir()}


def test_a_restarted_container_keeps_the_renamed_user(containers):
    container = containers.start(
        ["bash", "-c", "id -un; ls -d /home/*"], user=ROOT, environment={"NB_USER": "alice"}
    )
    assert wait_for_exit(container) == 0, logs(container)
    container.start()
    assert wait_for_exit(container) == 0, logs(container)
    assert logs(container, stderr=False).split() == ["alice", "/home/alice", "/home/jovyan"] * 2


def test_nb_uid(containers):
    # docker-stacks semantics: the home keeps its owner unless CHOWN_HOME; group users can
    # write it.
    result = run_as_root(
        containers, 'id; stat -c %u "$HOME"; touch "$HOME/x" && echo ok', NB_UID="1234"
    )
    assert result.stdout.split() == [
        "uid=1234(jovyan)",
        "gid=100(users)",
        "groups=100(users)",
        "1000",
        "ok",
    ]


def test_nb_gid_makes_a_group_named_after_the_user(containers):
    result = run_as_root(containers, "id", NB_GID="110")
    assert result.stdout.strip() == "uid=1000(jovyan) gid=110(jovyan) groups=110(jovyan),100(users)"


def test_nb_gid_and_nb_group(containers):
    result = run_as_root(containers, "id -g; id -gn; id -Gn", NB_GID="2000", NB_GROUP="science")
    gid, group, groups = result.stdout.splitlines()
    assert (gid, group) == ("2000", "science")
    assert "users" in groups.split()  # still shares the image's group


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"CHOWN_HOME": "yes", "CHOWN_HOME_OPTS": "-R"}, ["1000:100", "1000:100"]),
        ({"CHOWN_HOME": "yes"}, ["1000:100", "0:0"]),  # without -R: only the home itself
        ({}, ["0:0", "0:0"]),
    ],
    ids=["recursive", "home-only", "unset"],
)
def test_chown_home(containers, environment, expected):
    # A home (and a file in it) owned by root, as a volume restored from elsewhere would be.
    files = {
        "/home/jovyan": (None, 0o755, 0, 0),
        "/home/jovyan/file": ("x", 0o644, 0, 0),
    }
    result = containers.run(
        ["stat", "-c", "%u:%g", "/home/jovyan", "/home/jovyan/file"],
        user=ROOT,
        environment=environment,
        files=files,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == expected


def test_chown_extra(containers):
    files = {
        "/srv/a/file": ("x", 0o644, 0, 0),
        "/srv/b/file": ("x", 0o644, 0, 0),
        "/srv/c/file": ("x", 0o644, 0, 0),
    }
    result = containers.run(
        ["bash", "-c", "stat -c %u:%g /srv/a /srv/a/file /srv/b /srv/b/file /srv/c"],
        user=ROOT,
        environment={"CHOWN_EXTRA": "/srv/a, /srv/b", "CHOWN_EXTRA_OPTS": "-R"},
        files=files,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1000:100"] * 4 + ["0:0"]


@pytest.mark.parametrize(
    ("value", "granted"), [("yes", True), ("1", True), ("no", False), (None, False)]
)
def test_grant_sudo(containers, value, granted):
    environment = {"GRANT_SUDO": value} if value is not None else {}
    result = containers.run(
        ["bash", "-c", "id -u; sudo -n id -u"], user=ROOT, environment=environment
    )
    assert result.stdout.split()[0] == "1000"
    if granted:
        assert result.exit_code == 0, result.output
        assert result.stdout.split() == ["1000", "0"]
    else:
        assert result.exit_code != 0
        assert "password is required" in result.stderr or "not allowed" in result.stderr


def test_sudo_keeps_the_venv_first_on_path(containers):
    result = run_as_root(
        containers,
        "sudo -n which python jupyter pip; sudo -n python -c 'import jupyterlab'",
        GRANT_SUDO="yes",
    )
    assert result.stdout.split() == [
        "/opt/conda/bin/python",
        "/opt/conda/bin/jupyter",
        "/opt/conda/bin/pip",
    ]


@pytest.mark.parametrize("user", [ROOT, "1000"])
def test_nb_umask(containers, user):
    result = containers.run(
        ["bash", "-c", 'umask; touch "$HOME/f"; stat -c %a "$HOME/f"'],
        user=user,
        environment={"NB_UMASK": "002"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["0002", "664"]


@pytest.mark.parametrize("user", [ROOT, "1000"])
def test_jupyter_env_vars_to_unset(containers, user):
    result = containers.run(
        ["bash", "-c", "env"],
        user=user,
        environment={
            "SECRET_A": "a",
            "SECRET_B": "b",
            "KEEP_ME": "c",
            "JUPYTER_ENV_VARS_TO_UNSET": "SECRET_A,SECRET_B",
        },
    )
    assert result.exit_code == 0, result.output
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "KEEP_ME" in names
    assert not names & {"SECRET_A", "SECRET_B", "JUPYTER_ENV_VARS_TO_UNSET"}


def test_root_triplet_stays_root_with_home_root(containers):
    result = run_as_root(
        containers,
        'id; echo "$HOME"; getent passwd root; stat -c %U:%G "$HOME/work"; env',
        NB_USER="root",
        NB_UID="0",
        NB_GID="0",
    )
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "uid=0(root) gid=0(root) groups=0(root)",
        "/home/root",
        "root:x:0:0:root:/home/root:/bin/bash",
        "root:root",
    ]
    assert not [line for line in lines if line.startswith("SUDO")]  # no sudo in between
    assert "Running as root: bash -c" in result.stderr
    assert problem_lines(result.stderr) == []


def test_nb_user_root_needs_uid_and_gid_0(containers):
    result = containers.run(["true"], user=ROOT, environment={"NB_USER": "root"})
    assert result.exit_code == 1
    fatal = [line for line in result.stderr.splitlines() if line.startswith("FATAL[")]
    assert len(fatal) == 1 and "NB_USER=root needs NB_UID=0 and NB_GID=0" in fatal[0]


def test_start_sh_in_the_command_only_runs_the_command(containers):
    result = containers.run(
        ["start.sh", "sudo", "-n", "id", "-u"], user=ROOT, environment={"GRANT_SUDO": "yes"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "0"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING[")]
    assert len(warnings) == 1, result.stderr
    assert "start.sh is the default ENTRYPOINT, do not include it in CMD" in warnings[0]


def test_no_command_runs_bash(containers):
    result = containers.run(None, user=ROOT, entrypoint=["start.sh"])
    assert result.exit_code == 0, result.output
    assert "Running as jovyan: bash" in result.stderr


def test_jupyter_docker_stacks_quiet_hides_info(containers):
    result = containers.run(
        ["true"],
        user=ROOT,
        environment={"NB_USER": "alice", "GRANT_SUDO": "yes", "JUPYTER_DOCKER_STACKS_QUIET": "1"},
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_server_runs_as_nb_user_when_started_as_root(containers):
    container = containers.server(user=ROOT, environment={"NB_USER": "alice", "NB_UID": "1010"})
    code, out = exec_text(container, "ps -eo uid=,args=")
    assert code == 0, out
    server = [line.split() for line in out.splitlines() if "jupyter-lab" in line]
    assert server, out
    assert server[0][0] == "1010"


def test_command_exit_code_is_kept(containers):
    container = containers.start(["bash", "-c", "exit 7"], user=ROOT)
    assert wait_for_exit(container) == 7, logs(container)
