"""Accepted vulnerabilities: build-matrix.yaml's `vulnerabilities.accepted`, each with a reason
and an expiry date. A release may carry a known, fixable vulnerability only while it is accepted
here; after the date the release gate blocks it again and hubs refuse images that relied on it.

    vulnerabilities:
      accepted:
        - id: GHSA-xxxx-xxxx-xxxx     # an advisory id or alias, or debian:<source>=<fixed version>
          reason: not reachable: the server never parses untrusted archives
          expires: 2026-12-31
          images: [ml]                # optional: only these images (default: every image)
          variants: [bookworm]        # optional: only these variants (default: every variant)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError

KEYS = {"id", "reason", "expires", "images", "variants"}


@dataclass(frozen=True)
class Acceptance:
    id: str
    reason: str
    expires: datetime.date
    images: tuple[str, ...] = ()  # empty: every image
    variants: tuple[str, ...] = ()  # empty: every variant

    def covers(self, image: str, ids: tuple[str, ...], variant: str) -> bool:
        return (
            self.id in ids
            and (not self.images or image in self.images)
            and (not self.variants or variant in self.variants)
        )

    def valid_on(self, day: datetime.date) -> bool:
        return day <= self.expires


def parse_acceptances(
    path: Path, raw: Any, images: set[str], variants: set[str]
) -> tuple[Acceptance, ...]:
    """The `vulnerabilities` mapping of the matrix (absent: nothing accepted)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) - {"accepted"}:
        raise MatrixError(path, None, "vulnerabilities", "must be a mapping with the key accepted")
    entries = raw.get("accepted") or []
    if not isinstance(entries, list):
        raise MatrixError(path, None, "vulnerabilities.accepted", "must be a list of entries")
    return tuple(
        _entry(path, index, entry, images, variants) for index, entry in enumerate(entries)
    )


def _entry(path: Path, index: int, entry: Any, images: set[str], variants: set[str]) -> Acceptance:
    key = f"vulnerabilities.accepted[{index}]"
    if not isinstance(entry, dict):
        raise MatrixError(path, None, key, "must be a mapping with id, reason and expires")
    unknown = set(entry) - KEYS
    if unknown:
        raise MatrixError(
            path,
            None,
            f"{key}.{sorted(unknown)[0]}",
            f"unknown key; allowed: {', '.join(sorted(KEYS))}",
        )
    for needed in ("id", "reason", "expires"):
        if not entry.get(needed) or (needed != "expires" and not isinstance(entry[needed], str)):
            raise MatrixError(
                path,
                None,
                f"{key}.{needed}",
                "missing; every acceptance needs an id, a reason and an expiry date",
            )
    expires = entry["expires"]
    if not isinstance(expires, datetime.date):
        try:
            expires = datetime.date.fromisoformat(str(expires))
        except ValueError:
            raise MatrixError(
                path, None, f"{key}.expires", f"{expires!r} is not a date like 2026-12-31"
            ) from None
    return Acceptance(
        str(entry["id"]),
        str(entry["reason"]),
        expires,
        _names(path, f"{key}.images", entry.get("images"), images, "images"),
        _names(path, f"{key}.variants", entry.get("variants"), variants, "variants"),
    )


def _names(path: Path, key: str, raw: Any, known: set[str], what: str) -> tuple[str, ...]:
    named = raw or []
    if not isinstance(named, list) or not set(map(str, named)) <= known:
        raise MatrixError(
            path, None, key, f"must list {what} of the matrix ({', '.join(sorted(known))})"
        )
    return tuple(map(str, named))
