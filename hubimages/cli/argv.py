"""`invoke build sdc1 ml` as a shorthand of `invoke build --image sdc1 --image ml`.

invoke has no optional, variadic positional arguments (pyinvoke/invoke#159, #378), and
`invoke build` alone must build everything. invoke parses its own options, imports tasks.py,
then parses the task arguments it set aside in `program.core.unparsed`: tasks.py rewrites
those, before that last parse, from what the tasks declare (`Task.get_arguments`). The pin of
invoke in pyproject.toml and tests/unit/test_cli.py (which runs invoke's real parser) guard it.
After such a task, an image of the matrix is an image even where a task has its name:
`invoke lock rucio` locks the rucio image, it does not also start `invoke rucio`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set

from invoke.main import program
from invoke.tasks import Task

from hubimages.errors import HubImagesError
from hubimages.model.project import open_project

IMAGE_ARGUMENT = "image"


def value_flags(task: Task[Callable[..., object]]) -> set[str]:
    """The task's flags that take a value (so the next word is that value, not an image)."""
    flags: set[str] = set()
    for argument in task.get_arguments():
        if argument.takes_value:
            flags.update(
                f"--{n.replace('_', '-')}" if len(n) > 1 else f"-{n}" for n in argument.names
            )
    return flags


def expand_images(
    argv: list[str], tasks: Iterable[Task[Callable[..., object]]], images: Set[str] = frozenset()
) -> list[str]:
    """Words after a task that takes images, not flags or flag values, become --image NAME;
    a word that is both one of `images` and a task name is an image there."""
    tasks = list(tasks)
    with_images = {t.name: value_flags(t) for t in tasks if IMAGE_ARGUMENT in t.iterable}
    known = {t.name for t in tasks}
    out: list[str] = []
    current: str | None = None
    expecting_value = False
    for token in argv:
        if expecting_value:
            out.append(token)
            expecting_value = False
        elif token in known and not (current is not None and token in images):
            current = token if token in with_images else None
            out.append(token)
        elif token.startswith("-"):
            out.append(token)
            expecting_value = current is not None and token in with_images[current]
        elif current is not None:
            out += [f"--{IMAGE_ARGUMENT}", token]
        else:
            out.append(token)
    return out


def expand_positional_images(tasks: Iterable[Task[Callable[..., object]]]) -> None:
    """Rewrite the arguments of the running `invoke` in place (nothing when run otherwise)."""
    try:
        argv = program.core.unparsed  # set once invoke has parsed its own options
    except AttributeError:
        return
    argv[:] = expand_images(argv, tasks, matrix_images(argv))


def matrix_images(argv: list[str]) -> set[str]:
    """The image names of the matrix the command names (--matrix/-m) or of this checkout; none
    when it does not load (the task then reports why, in one line)."""
    path = next(
        (argv[i + 1] for i, token in enumerate(argv[:-1]) if token in ("--matrix", "-m")), None
    )
    try:
        return set(open_project(path).matrix.declared)  # of every variant
    except (HubImagesError, OSError):
        return set()
