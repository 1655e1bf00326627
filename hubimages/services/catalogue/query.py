"""Questions to a catalogue document, answered from an index made once per document:

- environments holding Python packages at versions (`bdsf>=1.14`, PEP 440 / PEP 508 names and
  specifiers), Debian packages (`git`, or `libc6=2.36-9+deb12u13` for an exact version), of a
  variant, or with text in their name, display name or description;
- workflows whose notebooks import packages (`pyvo`, `astropy>=7`), that run in an
  environment (`sdc1`, or `sdc1:trixie`) or a variant, that are runnable, or that mention a
  text.

A malformed condition is a QueryError naming it (the service answers 400 with it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class EnvironmentQuery:
    python: tuple[str, ...] = ()  # requirement specifiers, all must hold
    debian: tuple[str, ...] = ()  # name or name=version, all must hold
    text: str = ""
    variant: str = ""  # "" is every variant


@dataclass(frozen=True)
class WorkflowQuery:
    uses: tuple[str, ...] = ()  # requirement specifiers on what its notebooks import
    environment: str = ""  # environment name or id
    runnable: bool | None = None
    text: str = ""
    variant: str = ""  # "" is every variant


@dataclass
class CatalogueIndex:
    """The document, with package names canonical once (queries then only look up)."""

    document: dict[str, Any]
    python: dict[str, dict[str, str]] = field(default_factory=dict)  # environment id -> pkgs
    uses: dict[str, dict[str, str]] = field(default_factory=dict)  # workflow -> pkgs

    @classmethod
    def of(cls, document: dict[str, Any]) -> CatalogueIndex:
        index = cls(document)
        for environment in document.get("environments", []):
            index.python[environment["id"]] = _canonical(environment["python_packages"])
        for workflow in document.get("workflows", []):
            index.uses[workflow["name"]] = _canonical(workflow["uses"])
        return index

    def environments(self, query: EnvironmentQuery) -> list[dict[str, Any]]:
        requirements = [_requirement(text) for text in query.python]
        debian = [_debian(text) for text in query.debian]
        return [
            e
            for e in self.document.get("environments", [])
            if all(_holds(self.python[e["id"]], r) for r in requirements)
            and all(_has_debian(e["debian_packages"], name, v) for name, v in debian)
            and query.variant in ("", e["variant"])
            and _mentions(query.text, e["id"], e["display_name"], e["description"])
        ]

    def workflows(self, query: WorkflowQuery) -> list[dict[str, Any]]:
        requirements = [_requirement(text) for text in query.uses]
        return [
            w
            for w in self.document.get("workflows", [])
            if all(_holds(self.uses[w["name"]], r) for r in requirements)
            and query.environment in ("", w["environment"], w["environment_id"])
            and query.runnable in (None, w["runnable"])
            and query.variant in ("", w["variant"])
            and _mentions(query.text, w["name"], w["display_name"], w["description"])
        ]

    def workflow(self, name: str) -> dict[str, Any] | None:
        return next((w for w in self.document.get("workflows", []) if w["name"] == name), None)

    def environment(self, environment_id: str) -> dict[str, Any] | None:
        environments = self.document.get("environments", [])
        return next((e for e in environments if e["id"] == environment_id), None)


def _canonical(packages: dict[str, str]) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in packages.items()}


def _requirement(text: str) -> Requirement:
    try:
        requirement = Requirement(text.strip())
    except InvalidRequirement:
        raise QueryError(f"{text!r} is not a package condition like bdsf>=1.14") from None
    if requirement.url or requirement.marker or requirement.extras:
        raise QueryError(f"{text!r}: give a name and versions only, like bdsf>=1.14")
    return requirement


def _holds(packages: dict[str, str], requirement: Requirement) -> bool:
    version = packages.get(canonicalize_name(requirement.name))
    if version is None:
        return False
    if not requirement.specifier:
        return True
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _debian(text: str) -> tuple[str, str]:
    name, _, version = text.strip().partition("=")
    if not name or " " in name:
        raise QueryError(f"{text!r} is not a Debian package like git or git=1:2.39.5-0+deb12u3")
    return name, version


def _has_debian(packages: dict[str, str], name: str, version: str) -> bool:
    found = packages.get(name)
    return found is not None and (not version or found == version)


def _mentions(text: str, *fields: str) -> bool:
    needle = text.strip().lower()
    return not needle or any(needle in value.lower() for value in fields)


def conditions(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated query parameters, each condition once (a comma belongs to a specifier:
    bdsf>=1.14,<2)."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
