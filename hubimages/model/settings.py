"""build-matrix.yaml's `settings`: namespace, platform, Debian mirrors, package index.
The suite and the Python are each variant's (model/variants.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError
from hubimages.model.checks import check_keys, require_str
from hubimages.model.spec import NAMESPACE, PLATFORMS, DebianSettings, Settings

SETTINGS_KEYS = {"namespace", "platform", "debian", "index_url", "wheelhouse_port"}
DEBIAN_KEYS = {"mirror", "security_mirror"}
# Keys that moved to each variant (variants.<name>.debian and .python).
MOVED_TO_VARIANTS = {"settings.python": "python", "settings.debian.suite": "debian"}


def parse_settings(path: Path, raw: Any) -> Settings:
    if not isinstance(raw, dict):
        raise MatrixError(path, None, "settings", "must be a mapping")
    _moved(path, "settings.python", "python" in raw)
    check_keys(path, None, "settings.", raw, SETTINGS_KEYS)
    for key in ("namespace", "platform", "debian"):
        if key not in raw:
            raise MatrixError(path, None, f"settings.{key}", "missing; add it")
    namespace = require_str(path, None, "settings.namespace", raw["namespace"])
    if not NAMESPACE.match(namespace):
        raise MatrixError(
            path,
            None,
            "settings.namespace",
            f"invalid image namespace {namespace!r}: use lowercase a-z0-9._-/",
        )
    platform = raw["platform"]
    if platform not in PLATFORMS:
        raise MatrixError(
            path,
            None,
            "settings.platform",
            f"{platform!r} unsupported; use one of {', '.join(PLATFORMS)}",
        )
    debian = _debian(path, raw["debian"])
    extra: dict[str, Any] = {}
    if "index_url" in raw:
        extra["index_url"] = require_str(path, None, "settings.index_url", raw["index_url"])
    if "wheelhouse_port" in raw:
        port = raw["wheelhouse_port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 65536:
            raise MatrixError(path, None, "settings.wheelhouse_port", "must be a port number")
        extra["wheelhouse_port"] = port
    # python, glibc and the suite are the variant's (Matrix.for_variant fills them in).
    return Settings(
        namespace=namespace, python="", platform=platform, debian=debian, glibc="", **extra
    )


def _moved(path: Path, key: str, present: bool) -> None:
    if present:
        raise MatrixError(
            path,
            None,
            key,
            f"moved: each variant names it (variants.<name>.{MOVED_TO_VARIANTS[key]}); "
            "see docs/variants.md",
        )


def _debian(path: Path, debian: Any) -> DebianSettings:
    if not isinstance(debian, dict):
        raise MatrixError(path, None, "settings.debian", "must be a mapping with a mirror")
    _moved(path, "settings.debian.suite", "suite" in debian)
    check_keys(path, None, "settings.debian.", debian, DEBIAN_KEYS)
    mirror = _url(path, "settings.debian.mirror", debian.get("mirror"))
    security = debian.get("security_mirror")
    if security is None:
        if not mirror.endswith("/debian"):
            raise MatrixError(
                path,
                None,
                "settings.debian.security_mirror",
                f"missing: give the mirror of the -security suites that goes with "
                f"{mirror} (or none, and get no security updates)",
            )
        security = mirror.removesuffix("/debian") + "/debian-security"
    elif security == "none":
        security = ""
    else:
        security = _url(path, "settings.debian.security_mirror", security)
    return DebianSettings(suite="", mirror=mirror, security_mirror=security)


def _url(path: Path, key: str, value: Any) -> str:
    url = require_str(path, None, key, value)
    if not re.match(r"^(https?|file)://", url):
        raise MatrixError(path, None, key, f"{url!r} is not a URL")
    return url.rstrip("/")
