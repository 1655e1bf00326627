"""The command line through invoke's real parser and help printer, over every task of tasks.py.

Each check loads tasks.py afresh: invoke hands each task's help texts to the parser once (it
pops them), which is how `--help` once lost them all.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

import invoke.main
import pytest
from invoke.collection import Collection
from invoke.parser.context import ParserContext
from invoke.program import Program

from hubimages.cli.common import split_names

REPO = Path(__file__).resolve().parents[2]
IMAGE_TASKS = {"build", "lock", "test", "release", "push"}


def fresh_tasks() -> ModuleType:
    sys.modules.pop("tasks", None)  # invoke's loader, run by a test, may have dropped it
    return importlib.import_module("tasks")


def program() -> Program:
    return Program(namespace=Collection.from_module(fresh_tasks()), name="invoke", binary="invoke")


def task_names() -> list[str]:
    return sorted(Collection.from_module(fresh_tasks()).task_names)


def parsed(argv: list[str]) -> list[ParserContext]:
    """The task contexts invoke's parser makes of a command line (nothing is run)."""
    runner = program()
    runner.create_config()
    runner.parse_core(["invoke", *argv])
    runner.parse_collection()
    runner.parse_tasks()
    return list(runner.tasks)


def values(context: ParserContext) -> dict[str, object]:
    return {name: argument.value for name, argument in context.args.items()}


@pytest.mark.parametrize("name", task_names())
def test_help_shows_every_options_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    body = Collection.from_module(fresh_tasks())[name]
    documented = dict(body.help)  # before invoke's parser takes them
    parameters = [p for p in inspect.signature(body.body).parameters if p != "c"]
    assert sorted(documented) == sorted(parameters), f"{name}: options without help"
    # The `invoke` command's own program: it finds and imports tasks.py as a user's run does.
    invoke.main.program.run(["invoke", f"--search-root={REPO}", "--help", name], exit=False)
    shown = "".join(capsys.readouterr().out.split())  # invoke wraps (and hyphen-breaks) lines
    for parameter, text in documented.items():
        assert "".join(text.split()) in shown, f"invoke --help {name}: no help for {parameter}"


@pytest.mark.parametrize("name", task_names())
def test_short_flags_are_letters(name: str) -> None:
    """invoke picks a task's short flags from its option names' characters: never a dash."""
    flags = [
        flag
        for argument in Collection.from_module(fresh_tasks())[name].get_arguments()
        for flag in argument.names
        if len(flag) == 1
    ]
    assert all(flag.isalpha() for flag in flags), f"{name}: short flags {flags}"


@pytest.mark.parametrize("name", sorted(IMAGE_TASKS))
def test_images_are_a_repeatable_option_or_a_comma_list(name: str) -> None:
    [repeated] = parsed([name, "-i", "sdc1", "--image", "ml"])
    [listed] = parsed([name, "--image=sdc1,ml"])
    [none] = parsed([name])
    assert split_names(repeated.args["image"].value) == ["sdc1", "ml"]
    assert split_names(listed.args["image"].value) == ["sdc1", "ml"]
    assert split_names(none.args["image"].value) == []


def test_matrix_with_equals_or_space_is_the_same() -> None:
    with_equals = [values(c) for c in parsed(["build", "--matrix=other.yaml", "-i", "a"])]
    with_space = [values(c) for c in parsed(["build", "--matrix", "other.yaml", "-i", "a"])]
    assert with_equals == with_space
    assert with_equals[0]["matrix"] == "other.yaml"


def test_several_tasks_in_one_command_as_ci_runs_them() -> None:
    """.ci/run: `invoke engine test e2e` is three tasks, each with its defaults."""
    contexts = parsed(["engine", "test", "e2e"])
    assert [c.name for c in contexts] == ["engine", "test", "e2e"]
    assert contexts[1].args["image"].value == []
    assert contexts[2].args["profile"].value == "sdc1"


def test_variants_are_a_repeatable_option_beside_images() -> None:
    [repeated] = parsed(["build", "-i", "base", "--variant", "trixie", "--variant", "bookworm"])
    [every] = parsed(["test", "--variant", "all", "-i", "sdc1"])
    assert split_names(repeated.args["variant"].value) == ["trixie", "bookworm"]
    assert split_names(repeated.args["image"].value) == ["base"]
    assert split_names(every.args["variant"].value) == ["all"]


def test_ci_tests_every_variant_then_the_browser_session() -> None:
    """.ci/run: `invoke engine test --variant all e2e`."""
    contexts = parsed(["engine", "test", "--variant", "all", "e2e"])
    assert [c.name for c in contexts] == ["engine", "test", "e2e"]
    assert contexts[1].args["variant"].value == ["all"]
    assert contexts[2].args["variant"].value == []


def test_an_image_after_a_task_is_not_accepted_silently() -> None:
    """Without -i a word after a task is a task name: invoke stops, nothing runs."""
    with pytest.raises(Exception, match="sdc1"):
        parsed(["build", "sdc1"])


def test_split_names() -> None:
    assert split_names(["a,b", "c"]) == ["a", "b", "c"]
    assert split_names(None) == []
