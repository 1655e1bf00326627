"""Hooks: run-hooks.sh (sourced with one folder), and the folders start.sh runs it for:
start-notebook.d (first) and before-notebook.d (just before the command)."""

import pytest

from tests.containers.helpers import problem_lines

HOOKS = "/usr/local/bin"
RUN_HOOKS = "source /usr/local/bin/run-hooks.sh"


def hook(content: str, mode: int = 0o755):
    return (content, mode, 0, 0)


@pytest.mark.owner_only
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", "Should pass exactly one directory"),
        ("/tmp /usr", "Should pass exactly one directory"),
        ("/tmp/missing/", "Directory /tmp/missing/ doesn't exist or is not a directory"),
        ("/etc/passwd", "Directory /etc/passwd doesn't exist or is not a directory"),
    ],
    ids=["none", "two", "missing", "file"],
)
def test_run_hooks_needs_exactly_one_folder(containers, arguments, message):
    result = containers.run(["bash", "-c", f"{RUN_HOOKS} {arguments}; echo rc=$?"])
    assert result.stdout == "rc=1\n", result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR[")]
    assert len(errors) == 1 and errors[0].endswith(message), result.stderr


@pytest.mark.owner_only
def test_run_hooks_sources_runs_and_skips_in_order(containers):
    folder = "/tmp/hooks"
    files = {
        f"{folder}/10-set.sh": hook("export MY_VAR=123\n", 0o644),
        f"{folder}/20-exec": hook('#!/bin/bash\necho "exec sees $MY_VAR"\nexport LOST=1\n'),
        f"{folder}/30-notes.txt": hook("echo must not run\n", 0o644),
        f"{folder}/40-unset.sh": hook('echo "sourced sees $MY_VAR"\nunset MY_VAR\n', 0o644),
    }
    result = containers.run(
        ["bash", "-c", f'{RUN_HOOKS} {folder}; echo "after: [${{MY_VAR-unset}}] [${{LOST-}}]"'],
        files=files,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["exec sees 123", "sourced sees 123", "after: [unset] []"]
    assert f"Running hooks in: {folder} as uid: 1000 gid: 100" in result.stderr
    assert f"Sourcing shell script: {folder}/10-set.sh" in result.stderr
    assert f"Running executable: {folder}/20-exec" in result.stderr
    assert f"Ignoring non-executable: {folder}/30-notes.txt" in result.stderr
    assert f"Done running hooks in: {folder}" in result.stderr
    assert problem_lines(result.stderr) == []


@pytest.mark.owner_only
def test_failing_hooks_are_errors_and_the_rest_runs(containers):
    folder = "/tmp/hooks"
    files = {
        f"{folder}/10-fails.sh": hook("false\n", 0o644),
        f"{folder}/20-fails": hook("#!/bin/sh\nexit 3\n"),
        f"{folder}/30-unbound.sh": hook('echo "[$NOT_SET]"\n', 0o644),
        f"{folder}/40-ok.sh": hook("export LATER=ran\n", 0o644),
    }
    # The caller's errexit and nounset are off for the hooks and back on afterwards.
    script = f'set -eu; {RUN_HOOKS} {folder}; echo "$LATER $-"'
    result = containers.run(["bash", "-c", script], files=files)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "[]"
    later, flags = result.stdout.splitlines()[1].split()
    assert later == "ran" and "e" in flags and "u" in flags
    errors = problem_lines(result.stderr)
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith("ERROR[")
    assert errors[0].endswith(f"{folder}/10-fails.sh has failed, continuing execution")
    assert errors[1].endswith(f"{folder}/20-fails has failed, continuing execution")


@pytest.mark.owner_only
def test_a_hook_that_sets_errexit_and_fails_ends_the_shell(containers):
    files = {"/tmp/hooks/10-strict.sh": hook("set -e\nfalse\necho not reached\n", 0o644)}
    result = containers.run(
        ["bash", "-c", f"{RUN_HOOKS} /tmp/hooks; echo not reached either"], files=files
    )
    assert result.exit_code != 0
    assert "not reached" not in result.stdout


@pytest.mark.owner_only
@pytest.mark.parametrize("folder", ["start-notebook.d", "before-notebook.d"])
def test_start_sh_sources_hooks_that_set_the_environment(containers, folder):
    files = {f"{HOOKS}/{folder}/10-env.sh": hook('export FROM_HOOK="seen-$MY_VAR"\n', 0o644)}
    result = containers.run(
        ["bash", "-c", 'echo "$FROM_HOOK"'], environment={"MY_VAR": "x"}, files=files
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "seen-x"
    assert f"Sourcing shell script: {HOOKS}/{folder}/10-env.sh" in result.stderr


@pytest.mark.owner_only
def test_start_sh_continues_after_failing_hooks(containers):
    files = {
        f"{HOOKS}/start-notebook.d/10-fails.sh": hook("false\n", 0o644),
        f"{HOOKS}/before-notebook.d/20-fails": hook("#!/bin/sh\nexit 3\n"),
    }
    result = containers.run(["echo", "started"], files=files)
    assert result.exit_code == 0, result.output
    assert result.stdout == "started\n"
    assert len(problem_lines(result.stderr)) == 2, result.stderr


@pytest.mark.owner_only
@pytest.mark.parametrize(
    ("user", "start_uid", "before_uid"), [("root", "0", "0"), ("1000", "1000", "1000")]
)
def test_hooks_run_as_the_starting_user(containers, user, start_uid, before_uid):
    # At a root start both folders run as root, before privileges are dropped.
    files = {
        f"{HOOKS}/start-notebook.d/10-who.sh": hook('export START_UID="$(id -u)"\n', 0o644),
        f"{HOOKS}/before-notebook.d/10-who.sh": hook('export BEFORE_UID="$(id -u)"\n', 0o644),
    }
    result = containers.run(
        ["bash", "-c", 'echo "$START_UID $BEFORE_UID $(id -u)"'], user=user, files=files
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [start_uid, before_uid, "1000"]


def test_hooks_run_as_root_see_only_root_owned_folders_on_path(containers):
    # The venv is writable by group users: nothing of it runs as root, not even by name.
    files = {
        f"{HOOKS}/before-notebook.d/10-path.sh": hook(
            'export HOOK_PATH="$PATH"; export PATH="/opt/extra/bin:$PATH"\n', 0o644
        )
    }
    result = containers.run(
        ["bash", "-c", 'echo "$HOOK_PATH"; echo "$PATH"'], user="root", files=files
    )
    assert result.exit_code == 0, result.output
    hook_path, command_path = result.stdout.split()
    assert hook_path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    # The command gets the image's PATH back, with what the hook added.
    assert command_path.split(":")[:2] == ["/opt/extra/bin", "/opt/conda/bin"]
