"""The `variants:` of build-matrix.yaml: the matrix's second axis, besides the lineage.

    variants:
      trixie:
        default: true          # one variant is the default: its images keep the plain tags
        debian: trixie         # the Debian suite of the rootfs and of apt
        python: "3.13"         # that suite's python3 (checked on the built image)
        glibc: "2.41"          # that suite's libc: the newest manylinux wheels it runs
      bookworm:
        debian: bookworm
        python: "3.11"
        glibc: "2.36"
        exclude:               # optional: images this variant does not build, and why
          some-image: the reason

Every image and community environment is built in every variant that does not exclude it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError
from hubimages.model.lineage import descendants
from hubimages.model.spec import IMAGE_NAME, Matrix, Variant

VARIANT_KEYS = {"default", "debian", "python", "glibc", "exclude"}
SUITE = re.compile(r"^[a-z][a-z0-9-]*$")


def parse_variants(path: Path, raw: Any) -> dict[str, Variant]:
    if not isinstance(raw, dict) or not raw:
        raise MatrixError(
            path,
            None,
            "variants",
            "missing: give at least one variant with its debian suite, python and glibc "
            "(see docs/variants.md)",
        )
    variants = {str(name): _variant(path, name, spec, len(raw) == 1) for name, spec in raw.items()}
    defaults = [v.name for v in variants.values() if v.default]
    if len(defaults) != 1:
        raise MatrixError(
            path,
            None,
            "variants",
            "exactly one variant must say `default: true`"
            + (f" (now: {', '.join(defaults)})" if defaults else ""),
        )
    pythons: dict[str, str] = {}
    for variant in variants.values():
        if variant.python in pythons:
            raise MatrixError(
                path,
                None,
                f"variants.{variant.name}.python",
                f"{variant.python} is also {pythons[variant.python]}'s: their tags "
                f"(python-{variant.python}-...) would collide; give each variant its own Python",
            )
        pythons[variant.python] = variant.name
    return variants


def _variant(path: Path, name: Any, raw: Any, only: bool) -> Variant:
    if not isinstance(name, str) or not IMAGE_NAME.match(name):
        raise MatrixError(
            path, None, f"variants.{name}", "invalid variant name: use lowercase a-z0-9._-"
        )
    key = f"variants.{name}"
    if not isinstance(raw, dict):
        raise MatrixError(path, None, key, "must be a mapping with debian, python and glibc")
    for item in raw:
        if item not in VARIANT_KEYS:
            allowed = ", ".join(sorted(VARIANT_KEYS))
            raise MatrixError(path, None, f"{key}.{item}", f"unknown key; allowed: {allowed}")
    default = raw.get("default", only)
    if not isinstance(default, bool):
        raise MatrixError(path, None, f"{key}.default", "must be true or false")
    suite = raw.get("debian")
    if not isinstance(suite, str) or not SUITE.match(suite):
        raise MatrixError(
            path, None, f"{key}.debian", "must name a Debian suite, e.g. trixie or bookworm"
        )
    return Variant(
        name=name,
        suite=suite,
        python=_version(path, f"{key}.python", raw.get("python"), "3", "3.13"),
        glibc=_version(path, f"{key}.glibc", raw.get("glibc"), "2", "2.41"),
        default=default,
        excluded=_exclusions(path, key, raw.get("exclude", {})),
    )


def _version(path: Path, key: str, value: Any, major: str, example: str) -> str:
    # A YAML number would lose digits (3.10 is 3.1): a quoted string is required.
    if not isinstance(value, str) or not re.fullmatch(rf"{major}\.\d+", value):
        raise MatrixError(
            path, None, key, f"{value!r} is not a quoted major.minor version like {example!r}"
        )
    return value


def _exclusions(path: Path, key: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MatrixError(path, None, f"{key}.exclude", "must be a mapping of image: reason")
    out = {}
    for image, reason in raw.items():
        if not isinstance(reason, str) or not reason.strip():
            raise MatrixError(
                path, str(image), f"{key}.exclude", "give the reason it is excluded (a sentence)"
            )
        out[str(image)] = reason.strip()
    return out


def check_exclusions(matrix: Matrix) -> None:
    """An excluded image is a known one, and what is built on it (or stacks it) is excluded
    too: a variant never builds an image without its parent."""
    for variant in matrix.variants.values():
        key = f"variants.{variant.name}.exclude"
        for name in variant.excluded:
            if name not in matrix.declared:
                known = ", ".join(matrix.declared)
                raise MatrixError(matrix.path, name, key, f"unknown image; known images: {known}")
            for child in descendants(matrix, name):
                if child not in variant.excluded:
                    raise MatrixError(
                        matrix.path,
                        child,
                        key,
                        f"is built on {name}, which {variant.name} excludes: exclude it too",
                    )
