"""Hook folders start-notebook.d (first) and before-notebook.d (just before the command)."""

import pytest

from tests.containers.helpers import problem_lines

HOOKS = "/usr/local/bin"


def hook(content: str, mode: int = 0o755):
    return (content, mode, 0, 0)


@pytest.mark.parametrize("folder", ["start-notebook.d", "before-notebook.d"])
def test_sourced_hook_sees_and_sets_environment(containers, folder):
    files = {f"{HOOKS}/{folder}/10-env.sh": hook('export FROM_HOOK="seen-$MY_VAR"\n', 0o644)}
    result = containers.run(
        ["bash", "-c", 'echo "$FROM_HOOK"'], environment={"MY_VAR": "x"}, files=files
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "seen-x"


def test_executable_hook_runs_in_own_process(containers):
    files = {
        f"{HOOKS}/before-notebook.d/20-marker": hook(
            '#!/bin/bash\nexport NOT_EXPORTED=1\necho "ran as $(id -u)" > /tmp/marker\n'
        )
    }
    result = containers.run(
        ["bash", "-c", 'cat /tmp/marker; echo "[${NOT_EXPORTED:-}]"'], files=files
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["ran", "as", "1000", "[]"]


def test_non_executable_non_sh_file_is_ignored(containers):
    files = {f"{HOOKS}/start-notebook.d/notes.txt": hook("touch /tmp/ran\n", 0o644)}
    result = containers.run(["bash", "-c", "test ! -e /tmp/ran && echo skipped"], files=files)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "skipped"
    assert "ignoring /usr/local/bin/start-notebook.d/notes.txt" in result.stderr


def test_failing_hooks_are_logged_and_start_continues(containers):
    files = {
        f"{HOOKS}/start-notebook.d/10-fails.sh": hook("false\n", 0o644),
        f"{HOOKS}/start-notebook.d/20-fails": hook("#!/bin/sh\nexit 3\n"),
        f"{HOOKS}/start-notebook.d/30-ok.sh": hook("export LATER=ran\n", 0o644),
    }
    result = containers.run(["bash", "-c", 'echo "$LATER"'], files=files)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ran"
    failures = problem_lines(result.stderr)
    assert len(failures) == 2, result.stderr
    assert "10-fails.sh failed with exit code 1" in failures[0]
    assert "20-fails failed with exit code 3" in failures[1]


def test_hooks_run_as_root_before_dropping_privileges(containers):
    files = {f"{HOOKS}/before-notebook.d/10-who.sh": hook('export HOOK_UID="$(id -u)"\n', 0o644)}
    result = containers.run(["bash", "-c", 'echo "$HOOK_UID $(id -u)"'], user="root", files=files)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["0", "1000"]
