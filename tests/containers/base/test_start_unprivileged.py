"""start.sh started as a non-root user: uid 1000 and arbitrary uids (OpenShift style)."""

import pytest

from tests.containers.helpers import problem_lines


def test_uid_1000_runs_command_without_warnings(containers):
    result = containers.run(["bash", "-c", 'id -u; echo "$HOME"'], user="1000")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1000", "/home/jovyan"]
    assert problem_lines(result.stderr) == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NB_USER", "alice"),
        ("NB_UID", "1234"),
        ("NB_GID", "2000"),
        ("NB_GROUP", "science"),
        ("CHOWN_HOME", "yes"),
        ("CHOWN_EXTRA", "/srv"),
        ("GRANT_SUDO", "yes"),
    ],
)
def test_root_only_variable_is_warned_about(containers, variable, value):
    result = containers.run(["id", "-u"], user="1000", environment={variable: value})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1000"
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert f"{variable}={value} ignored" in warnings[0]


def test_no_sudo_granted_without_root(containers):
    result = containers.run(["sudo", "-n", "true"], user="1000", environment={"GRANT_SUDO": "yes"})
    assert result.exit_code != 0


@pytest.mark.parametrize(
    ("user", "home"),
    [
        ("1234:100", "/home/jovyan"),  # group users may write the setgid home
        ("1234:1234", "/tmp/jovyan-home-1234"),  # nothing writable: a private fallback home
    ],
)
def test_arbitrary_uid_gets_writable_home_and_warnings(containers, user, home):
    result = containers.run(
        ["bash", "-c", 'id -u; echo "$HOME"; pwd; touch "$HOME/f" && echo writable'], user=user
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1234", home, home, "writable"]
    assert "NB_UID=1000 ignored: running as uid 1234" in result.stderr
    assert "uid 1234 has no passwd entry" in result.stderr
    if home != "/home/jovyan":
        assert f"using {home}" in result.stderr


def test_arbitrary_uid_with_group_root_gets_passwd_entry(containers):
    result = containers.run(["bash", "-c", "whoami; getent passwd 1234"], user="1234:0")
    assert result.exit_code == 0, result.output
    name, entry = result.stdout.split()
    assert name == "jovyan"
    assert entry.split(":")[2:4] == ["1234", "0"]


@pytest.mark.parametrize("user", ["1234:100", "1234:1234"])
def test_arbitrary_uid_server_answers(containers, user):
    container = containers.server(user=user)
    assert container.startup_seconds > 0
