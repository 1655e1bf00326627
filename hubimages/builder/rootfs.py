"""Bootstrap a minimal Debian root filesystem with mmdebstrap and import it as the root image.

The tarball is cached by a hash of everything that goes into it, so it is made once per
mirror, suite and package list, and re-imported quickly when the engine has lost the image.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import subprocess
import time
from pathlib import Path

from docker import DockerClient

from hubimages import RECIPE_VERSION
from hubimages.builder.engine import image_or_none
from hubimages.builder.host import ensure_debian_tools
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.spec import ImageSpec, Matrix

log = logging.getLogger(__name__)

PACKAGE_LIST = "debian-packages.txt"
# Documentation, man pages and translations are not needed in a container image.
DPKG_EXCLUDES = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/i18n/*",
    "path-exclude=/usr/share/lintian/*",
    # git's server and mail programs (19 MB): a session is a git client (nbgitpuller clones and
    # fetches over HTTP(S) with git and git-remote-http).
    *(
        f"path-exclude=/usr/{program}"
        for program in (
            "bin/git-shell",
            "bin/scalar",
            "lib/git-core/git-daemon",
            "lib/git-core/git-http-backend",
            "lib/git-core/git-http-fetch",
            "lib/git-core/git-http-push",
            "lib/git-core/git-imap-send",
            "lib/git-core/git-shell",
            "lib/git-core/scalar",
        )
    ),
)
BOOTSTRAP_LOG_TAIL = 15
MIN_ROOTFS_BYTES = 10 * 2**20  # minbase alone is larger; less means mmdebstrap failed


def debian_packages(spec: ImageSpec) -> list[str]:
    path = spec.folder / PACKAGE_LIST
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return sorted({line for line in lines if line})


def rootfs_key(matrix: Matrix, spec: ImageSpec) -> str:
    recipe = {
        "recipe": RECIPE_VERSION,
        "suite": matrix.settings.debian.suite,
        "sources": matrix.settings.debian.sources(),
        "platform": matrix.settings.platform,
        "packages": debian_packages(spec),
        "excludes": DPKG_EXCLUDES,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def root_image_ref(matrix: Matrix, spec: ImageSpec) -> str:
    key = rootfs_key(matrix, spec)[:12]
    return f"{matrix.settings.namespace}/debian-root:{matrix.settings.debian.suite}-{key}"


def ensure_root_image(
    client: DockerClient, matrix: Matrix, spec: ImageSpec, cache: CacheLayout
) -> str:
    """The id of the bootstrapped root image, importing (and bootstrapping) only when needed."""
    ref = root_image_ref(matrix, spec)
    image = image_or_none(client, ref)
    if image is not None:
        return str(image.id)
    tarball = cache.rootfs / f"{rootfs_key(matrix, spec)}.tar"
    tarball.parent.mkdir(parents=True, exist_ok=True)
    # One bootstrap per key at a time, also across processes: others wait, then reuse it.
    with (tarball.parent / f"{tarball.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.is_file():
            log.info("%s: importing cached Debian rootfs %s", spec.name, tarball.name[:12])
        else:
            bootstrap(matrix, spec, tarball)
    repository, tag = ref.rsplit(":", 1)
    with tarball.open("rb") as data:
        client.api.import_image_from_data(data, repository=repository, tag=tag)
    image = image_or_none(client, ref)
    if image is None:
        raise HubImagesError(
            f"importing {tarball.name} as {ref} failed: remove {tarball} (it is made again) "
            "and build again"
        )
    return str(image.id)


def bootstrap_command(matrix: Matrix, spec: ImageSpec, output: Path) -> list[str]:
    debian = matrix.settings.debian
    packages = debian_packages(spec)
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--format=tar",
        "--quiet",
        f"--architectures={_debian_arch(matrix.settings.machine)}",
        '--aptopt=Acquire::Languages "none"',
        *(f"--dpkgopt={opt}" for opt in DPKG_EXCLUDES),
        *_merged_usr_hook(),
        # apt lists are large and stale by the time anyone uses them: `apt-get update` first.
        '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
    ]
    if packages:
        cmd.append(f"--include={','.join(packages)}")
    # The sources become the image's /etc/apt/sources.list: release, updates and security.
    return [*cmd, debian.suite, str(output), *debian.sources()]


def bootstrap(matrix: Matrix, spec: ImageSpec, tarball: Path) -> None:
    ensure_debian_tools({"mmdebstrap": "mmdebstrap"})
    debian = matrix.settings.debian
    partial = tarball.with_name(f"{tarball.stem}.{os.getpid()}.partial")
    # A fixed timestamp makes the tarball reproducible for a given set of package versions.
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1700000000")}
    log.info(
        "%s: bootstrapping Debian %s from %s (%d extra packages)",
        spec.name,
        debian.suite,
        debian.mirror,
        len(debian_packages(spec)),
    )
    started = time.monotonic()
    result = subprocess.run(
        bootstrap_command(matrix, spec, partial),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = (result.stderr or result.stdout).strip().splitlines()[-BOOTSTRAP_LOG_TAIL:]
        for line in tail:
            log.error("  mmdebstrap: %s", line)
        raise HubImagesError(
            f"{spec.name}: mmdebstrap of {debian.suite} from {debian.mirror} failed; check "
            f"settings.debian in the matrix and images/{spec.name}/{PACKAGE_LIST}"
        )
    if partial.stat().st_size < MIN_ROOTFS_BYTES:
        partial.unlink()
        raise HubImagesError(
            f"{spec.name}: mmdebstrap wrote no usable rootfs; see its output "
            "with `invoke build --verbose`"
        )
    partial.rename(tarball)  # atomic: the cache never holds a half tarball
    log.info(
        "%s: rootfs ready in %.0fs (%d MB)",
        spec.name,
        time.monotonic() - started,
        tarball.stat().st_size // 2**20,
    )


def _merged_usr_hook() -> list[str]:
    """Set up merged /usr directly: bookworm's usrmerge package would pull in perl (~47 MB)."""
    hook = Path("/usr/share/mmdebstrap/hooks/merged-usr")
    return [f"--hook-dir={hook}"] if hook.is_dir() else []


def _debian_arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}[machine]
