"""start.sh started as a non-root user: uid 1000, arbitrary uids (OpenShift style), --group-add."""

import pytest

from tests.containers.helpers import problem_lines


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("WARNING[")]


def test_uid_1000_runs_command_without_warnings(containers):
    result = containers.run(["bash", "-c", 'id -u; echo "$HOME"'], user="1000")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1000", "/home/jovyan"]
    assert problem_lines(result.stderr) == []
    assert "Executing the command: bash -c" in result.stderr


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
    found = warnings(result.stderr)
    assert len(found) == 1, result.stderr
    assert f"{variable}={value} ignored" in found[0]


@pytest.mark.parametrize(
    "environment",
    [{"NB_UID": "1000", "NB_GID": "100", "NB_USER": "jovyan"}, {"NB_UID": "1234", "NB_GID": "0"}],
    ids=["image-defaults", "the-running-ids"],
)
def test_values_that_hold_are_not_warned_about(containers, environment):
    result = containers.run(["true"], user="1234:0", group_add=["users"], environment=environment)
    assert result.exit_code == 0, result.output
    assert warnings(result.stderr) == []


def test_no_sudo_granted_without_root(containers):
    result = containers.run(["sudo", "-n", "true"], user="1000", environment={"GRANT_SUDO": "yes"})
    assert result.exit_code != 0


def test_uid_with_gid_0_gets_a_passwd_entry_as_jovyan(containers):
    result = containers.run(
        ["bash", "-c", "id -un; getent passwd 1234; getent passwd jovyan"],
        user="1234:0",
        group_add=["users"],
    )
    assert result.exit_code == 0, result.output
    name, entry, by_name = result.stdout.split()
    assert name == "jovyan"
    assert entry.split(":")[:4] == ["jovyan", "x", "1234", "0"]
    assert by_name == entry  # the name means this uid
    assert warnings(result.stderr) == []


def test_uid_with_gid_0_and_nb_user_is_named_but_keeps_the_home(containers):
    result = containers.run(
        ["bash", "-c", 'whoami; echo "$HOME"'],
        user="1234:0",
        group_add=["users"],
        environment={"NB_USER": "kitten"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["kitten", "/home/jovyan"]
    found = warnings(result.stderr)
    assert len(found) == 1 and "user is kitten but home is /home/jovyan" in found[0]


def test_uid_with_another_gid_is_told_to_use_gid_0(containers):
    result = containers.run(["id"], user="1234:1234", group_add=["users"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "uid=1234 gid=1234 groups=1234,100(users)"
    found = warnings(result.stderr)
    assert len(found) == 1 and 'Try setting gid=0 with "--user=1234:0"' in found[0]


@pytest.mark.parametrize(
    ("user", "group_add", "home", "hints"),
    [
        # group users may write the setgid home; without gid 0 the uid gets no name
        ("1234:100", [], "/home/jovyan", ["gid=0"]),
        ("1234:0", ["users"], "/home/jovyan", []),
        ("1234:0", [], "/tmp/jovyan-home-1234", ["--group-add=users"]),
        ("1234:1234", [], "/tmp/jovyan-home-1234", ["--group-add=users", "gid=0"]),
    ],
    ids=["group-users", "group-added", "gid-0", "own-group"],
)
def test_arbitrary_uid_gets_a_writable_home(containers, user, group_add, home, hints):
    result = containers.run(
        ["bash", "-c", 'id -u; echo "$HOME"; pwd; touch "$HOME/f" && echo writable'],
        user=user,
        group_add=group_add,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1234", home, home, "writable"]
    found = warnings(result.stderr)
    assert len(found) == len(hints), result.stderr
    for warning, hint in zip(found, hints, strict=True):
        assert hint in warning


@pytest.mark.parametrize("user", ["1234:100", "1234:0", "1234:1234"])
def test_arbitrary_uid_server_answers(containers, user):
    container = containers.server(user=user)
    assert container.startup_seconds > 0
