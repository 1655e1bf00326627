"""start.sh started as root: each NB_*/CHOWN_*/GRANT_SUDO/... variable, one test each."""

import pytest

from tests.containers.helpers import exec_text, logs, wait_for_exit

ROOT = "root"


def run_as_root(containers, script: str, **environment: str):
    result = containers.run(["bash", "-c", script], user=ROOT, environment=environment)
    assert result.exit_code == 0, result.output
    return result


def test_defaults_as_root_drop_to_jovyan(containers):
    result = run_as_root(containers, 'id -u; id -g; echo "$HOME"; pwd')
    assert result.stdout.split() == ["1000", "100", "/home/jovyan", "/home/jovyan"]
    assert "WARNING" not in result.stderr


def test_nb_user_renames_jovyan_and_moves_home(containers):
    script = 'id -un; echo "$HOME"; pwd; stat -c %U "$HOME"; readlink /home/jovyan; touch "$HOME/x"'
    result = run_as_root(containers, script + " && echo writable", NB_USER="alice")
    assert result.stdout.split() == [
        "alice",
        "/home/alice",
        "/home/alice",
        "alice",
        "/home/alice",  # the old path still leads there: docker exec starts in it
        "writable",
    ]


def test_nb_uid(containers):
    result = run_as_root(
        containers, 'id -u; id -un; stat -c %u "$HOME"; touch "$HOME/x" && echo ok', NB_UID="1234"
    )
    assert result.stdout.split() == ["1234", "jovyan", "1234", "ok"]


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
    assert not names & {"SECRET_A", "SECRET_B"}


@pytest.mark.parametrize("quiet", ["1", None])
def test_jupyter_docker_stacks_quiet(containers, quiet):
    environment = {"NB_USER": "alice", "GRANT_SUDO": "yes"}
    if quiet:
        environment["JUPYTER_DOCKER_STACKS_QUIET"] = quiet
    result = containers.run(["true"], user=ROOT, environment=environment)
    assert result.exit_code == 0, result.output
    if quiet:
        assert "start.sh" not in result.stderr
    else:
        assert "start.sh: INFO: renaming user jovyan to alice" in result.stderr


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
