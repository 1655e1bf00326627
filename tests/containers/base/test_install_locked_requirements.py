"""install-locked-requirements, the build step every image's Dockerfile runs (as root, offline).

The wheelhouse and the lock are served from inside the container on 127.0.0.1, as the build
tool serves them on the build network's gateway.
"""

import hashlib
import re
from pathlib import Path

import pytest

from hubimages.deps.lockfile import lock_name

BASE = Path(__file__).resolve().parents[3] / "images" / "base"
SERVE = "mkdir -p /tmp/srv/wheels /tmp/srv/locks && cp /tmp/lock.txt /tmp/srv/locks/base.txt"
# The server in the background, then a bounded poll until it answers (at most 10 s).
HTTP = (
    "(cd /tmp/srv && python -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &) && "
    "for _ in $(seq 100); do python -c 'import socket; socket.create_connection("
    '("127.0.0.1", 8765), 1)\' 2>/dev/null && break; sleep 0.1; done'
)
URLS = {
    "WHEELHOUSE_URL": "http://127.0.0.1:8765/wheels/",
    "LOCK_URL": "http://127.0.0.1:8765/locks/base.txt",
}

# A Dockerfile RUN: root, without the image's entrypoint (start.sh would drop to jovyan).
AS_BUILD: dict[str, list[str]] = {"entrypoint": []}


def pinned_block(name: str, variant: str) -> str:
    """The hash-pinned entry of one package from the base lock of the image's variant
    (installed in the image)."""
    lock = BASE / lock_name(variant)
    match = re.search(rf"^{name}==\S+(?: \\\n\s+--hash=\S+)+", lock.read_text(), re.MULTILINE)
    assert match, f"{name} not in {lock}"
    return match.group(0) + "\n"


@pytest.mark.parametrize("missing", ["WHEELHOUSE_URL", "LOCK_URL"])
def test_fails_clearly_without_build_arguments(containers, missing):
    environment = {key: value for key, value in URLS.items() if key != missing}
    result = containers.run(
        ["install-locked-requirements"], user="root", environment=environment, **AS_BUILD
    )
    assert result.exit_code != 0
    assert f"{missing}: is not set" in result.stderr


def run_install(containers, lock: str, sha256: str):
    return containers.run(
        ["bash", "-c", f"{SERVE} && {HTTP} && install-locked-requirements && ls -A /root"],
        user="root",
        **AS_BUILD,
        environment={**URLS, "LOCK_SHA256": sha256},
        files={"/tmp/lock.txt": (lock, 0o644, 0, 0)},
    )


def test_rejects_a_lock_with_another_sha256(containers, variant_name):
    lock = pinned_block("six", variant_name)
    result = run_install(containers, lock, hashlib.sha256(b"another lock").hexdigest())
    assert result.exit_code != 0
    assert "expected LOCK_SHA256=" in result.stderr


def test_installs_offline_and_leaves_no_cache(containers, variant_name):
    # Already installed at the locked version: pip verifies and resolves without any download.
    lock = pinned_block("six", variant_name)
    result = run_install(containers, lock, hashlib.sha256(lock.encode()).hexdigest())
    assert result.exit_code == 0, result.output
    assert "Requirement already satisfied: six==" in result.output
    assert ".cache" not in result.stdout.split()
