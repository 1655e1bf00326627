"""start.sh's messages: _docker_stacks_log.sh's format, levels, quiet mode and colours."""

import re

import pytest

LOG = "source /usr/local/bin/_docker_stacks_log.sh"
LINE = re.compile(r"^(INFO|WARNING|ERROR|FATAL|DEBUG)\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ")
RED, BOLD_RED, YELLOW, RESET = "\x1b[0;31m", "\x1b[0;1;31m", "\x1b[0;33m", "\x1b[0m"


def run_log(containers, script: str, tty: bool = False, **environment: str):
    return containers.run(["bash", "-c", f"{LOG} && {script}"], tty=tty, environment=environment)


@pytest.mark.parametrize("user", ["root", "1000"])
def test_every_start_sh_line_has_level_and_timestamp(containers, user):
    result = containers.run(["echo", "done"], user=user)
    assert result.exit_code == 0, result.output
    assert result.stdout == "done\n"  # messages never go to stdout
    lines = result.stderr.splitlines()
    assert lines and all(LINE.match(line) for line in lines), result.stderr
    assert re.match(LINE.pattern + r"Entered start\.sh with args: echo done$", lines[0])


@pytest.mark.owner_only
def test_quiet_mode_keeps_warnings_and_errors_only(containers):
    result = containers.run(
        ["bash", "-c", f"{LOG} && _log_error broken"],
        environment={"JUPYTER_DOCKER_STACKS_QUIET": "yes", "GRANT_SUDO": "yes"},
    )
    assert result.exit_code == 0, result.output
    levels = [m.group(1) if (m := LINE.match(x)) else x for x in result.stderr.splitlines()]
    assert levels == ["WARNING", "ERROR"], result.stderr
    assert "GRANT_SUDO=yes ignored" in result.stderr


@pytest.mark.owner_only
def test_a_first_word_that_is_no_level_is_logged_as_info(containers):
    result = run_log(containers, '_log "no level here"; _log DEBUG "a detail"')
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()[-2:]
    assert re.match(r"^INFO\[[^]]+\] no level here$", lines[0]), lines
    assert re.match(r"^DEBUG\[[^]]+\] a detail$", lines[1]), lines


@pytest.mark.owner_only
def test_fatal_exits_with_1(containers):
    result = run_log(containers, '_log_fatal "cannot go on"; echo not reached')
    assert result.exit_code == 1
    assert re.search(r"^FATAL\[[^]]+\] cannot go on$", result.stderr, re.MULTILINE)
    assert "not reached" not in result.stdout


@pytest.mark.owner_only
def test_colours_only_on_a_terminal(containers):
    script = "_log_error red; _log_warn yellow; _log_fatal bold"
    on_tty = run_log(containers, script, tty=True).stdout  # a tty merges both streams
    assert f"{RED}ERROR[" in on_tty and f"] red{RESET}" in on_tty
    assert f"{YELLOW}WARNING[" in on_tty
    assert f"{BOLD_RED}FATAL[" in on_tty
    piped = run_log(containers, script)
    assert "\x1b[" not in piped.output
    assert "ERROR[" in piped.stderr


@pytest.mark.owner_only
def test_no_color_turns_colours_off_on_a_terminal(containers):
    result = run_log(containers, "_log_error plain", tty=True, NO_COLOR="1")
    assert "ERROR[" in result.stdout
    assert "\x1b[" not in result.stdout
