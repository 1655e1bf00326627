"""URLs as they may be shown and published: without credentials, tokens or query strings."""

from __future__ import annotations

import re
import urllib.parse

SCP_LIKE = re.compile(r"^[^@/:]+@([^:/]+):(.*)$")  # user@host:path, git's short ssh form


def public_url(url: str) -> str:
    """`https://user:TOKEN@host/x?token=y` -> `https://host/x`; `git@host:o/r` -> `host:o/r`."""
    url = url.strip()
    if "://" not in url:
        scp = SCP_LIKE.match(url)
        return f"{scp.group(1)}:{scp.group(2)}" if scp else url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
