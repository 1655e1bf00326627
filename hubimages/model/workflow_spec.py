"""The values of `workflows:` in build-matrix.yaml: notebooks of a repository, run in an
environment of the matrix, on data, proven on every release (docs/workflows.md)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT = 600  # seconds for a whole headless run, every notebook together


@dataclass(frozen=True)
class DataFolder:
    """A folder of this checkout, mounted read-only in the session at `at`."""

    files: str  # relative to the matrix file
    at: str  # absolute path in the session


@dataclass(frozen=True)
class RucioDid:
    """A data identifier in the site's Rucio, scope:name, that the workflow reads."""

    did: str


DataItem = DataFolder | RucioDid


def environment_id(name: str, variant: str) -> str:
    """An environment in one variant, `name:variant`: the catalogue's id, a workflow's
    environment_id."""
    return f"{name}:{variant}" if variant else name


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    display_name: str
    description: str
    repository: str  # a folder of this checkout (relative to the matrix) or a git URL
    ref: str  # branch, tag or commit of a git URL; "" is its HEAD (a folder has none)
    notebooks: tuple[str, ...]  # paths in the repository; the first one opens from a launch
    environment: str  # an image or a community environment of the matrix
    # The variant of the environment it runs in: the declared one, else the matrix's default
    # (filled in when the matrix is parsed). One workflow, one variant: its runs, its record,
    # its launch link are that variant's.
    variant: str = ""
    data: tuple[DataItem, ...] = ()
    timeout: int = DEFAULT_TIMEOUT

    @property
    def folders(self) -> tuple[DataFolder, ...]:
        return tuple(item for item in self.data if isinstance(item, DataFolder))

    @property
    def dids(self) -> tuple[str, ...]:
        return tuple(item.did for item in self.data if isinstance(item, RucioDid))

    @property
    def environment_id(self) -> str:
        """The environment and variant a run and a launch use, `name:variant`: the catalogue's
        id of that environment."""
        return environment_id(self.environment, self.variant)
