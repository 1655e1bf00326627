"""A repository's Python requirements, resolved on the host against the platform image's lock.

The platform's pins are constraints, so numpy, PyBDSF or JupyterLab never move; the result is a
hash-locked file of what the repository adds. Wheels come from the index; a requirement with no
usable wheel is built into one on the host from its verified sdist, and so is the repository
itself when it is a Python package. The build then installs the lock with --require-hashes from
the wheel server, like the platform images.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from hubimages.builder.userenv.config import RepoConfig
from hubimages.core.files import file_sha256, write_atomically
from hubimages.core.tools import uv_command
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.index import PackageIndex
from hubimages.deps.lockfile import Lock, LockedRequirement, normalize, parse_lock
from hubimages.deps.wheelbuild import build_wheel
from hubimages.deps.wheelhouse import choose_wheel, fetch, target_tags, uv_platform
from hubimages.errors import HubImagesError
from hubimages.model.spec import Settings

log = logging.getLogger(__name__)

# What pip could take but a hermetic build cannot: editables, paths, VCS and URL requirements.
NOT_FROM_AN_INDEX = re.compile(r"^\s*(-e\b|--editable\b|\.|/|~|file:|[a-z]+\+|https?://)", re.I)
INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")


@dataclass(frozen=True)
class Resolved:
    lock: Lock
    wheels: list[Path]  # every file the lock names, on this host


@dataclass(frozen=True)
class Resolver:
    settings: Settings
    index: PackageIndex
    catalog: LocalWheelCatalog
    wheels: Path  # the cache of wheels downloaded from the index, shared with every image
    folder: Path  # cache folder of this environment: its lock and host-built wheels

    def resolve(self, config: RepoConfig, name: str, platform: Lock) -> Resolved | None:
        inputs = _inputs(config)
        if not inputs:
            return None
        text = self._compile(config, inputs, platform)
        built: dict[str, Path] = {}
        entries = []
        for req in parse_lock(text, self.folder / "requirements.lock"):
            wheel = self._host_wheel(req)
            if wheel is not None:
                built[req.normalized] = wheel
                req = LockedRequirement(req.name, req.version, frozenset({file_sha256(wheel)}))
            entries.append(req)
        if config.package:
            wheel = build_wheel(
                config.root,
                self.folder / "package",
                self.index,
                what=f"the repository's package ({name})",
            )
            package, version, _, _ = parse_wheel_filename(wheel.name)
            built[normalize(package)] = wheel
            entries.append(
                LockedRequirement(package, str(version), frozenset({file_sha256(wheel)}))
            )
        lock = _write_lock(self.folder / "requirements.lock", name, entries)
        served = Lock(
            lock.image,
            lock.path,
            lock.text,
            tuple(r for r in lock.requirements if r.normalized not in built),
        )
        wheels = fetch(served, self.settings, self.wheels, self.index, self.catalog)
        return Resolved(lock, [*wheels, *built.values()])

    def _compile(self, config: RepoConfig, inputs: list[str], platform: Lock) -> str:
        """Wheels only first (no code of the repository's requirements runs on the host);
        only if that fails, sdists too (built into wheels later)."""
        out = self.folder / "compiled.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            *uv_command(),
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--no-header",
            "--python-version",
            self.settings.python,
            "--python-platform",
            uv_platform(self.settings),
            "--index-url",
            self.index.url,
            "--constraint",
            str(platform.path),
            "--output-file",
            str(out),
            *inputs,
        ]
        links = self.catalog.find_links_for_lock(f"environment-{platform.image}")
        if links is not None:  # the platform's own wheels built on the host (its pins)
            cmd += ["--find-links", str(links)]
        wheels_only = self._uv([*cmd, "--only-binary", ":all:"], config)
        if wheels_only is None:
            return out.read_text()
        any_kind = self._uv(cmd, config)
        if any_kind is None:
            return out.read_text()
        detail = any_kind if "no usable wheels" in wheels_only else wheels_only
        raise HubImagesError(
            f"{' + '.join(inputs)}: cannot be resolved against the pins "
            f"of {platform.image} ({platform.path.name}): {detail}"
        )

    @staticmethod
    def _uv(cmd: list[str], config: RepoConfig) -> str | None:
        """None when uv resolved; else the gist of its complaint."""
        result = subprocess.run(
            cmd,
            cwd=config.root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "UV_NATIVE_TLS": "1"},
        )
        if result.returncode == 0:
            return None
        lines = [line.strip() for line in result.stderr.strip().splitlines() if line.strip()]
        # uv's own summary (error: ... cause: ..., wrapped), not a failed build's traceback.
        start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
        if start is None:
            return " ".join(lines[-3:])
        summary = []
        for line in lines[start:]:
            if line.startswith(("hint:", "[stderr]", "[stdout]")):
                break  # the build's own output follows: the summary is above
            summary.append(line)
        return " ".join(summary)

    def _host_wheel(self, req: LockedRequirement) -> Path | None:
        """A wheel built here when the index has none for the image; None when it has one
        (or when it is one of the platform's own local wheels, which fetch builds)."""
        if self.catalog.declaration(req.name, req.version) is not None:
            return None
        files = self.index.files(req.normalized)
        try:
            choose_wheel(req, files, target_tags(self.settings))
            return None
        except HubImagesError:
            sdist = next(
                (f for f in files if f.sha256 in req.hashes and not f.filename.endswith(".whl")),
                None,
            )
            if sdist is None:
                raise
        target = self.folder / "sdists" / sdist.filename
        if not (target.is_file() and file_sha256(target) == sdist.sha256):
            self.index.download(sdist, target)
        log.info("%s has no wheel for this image: building one on the host", req.pin)
        return build_wheel(
            target, self.folder / "wheels" / req.normalized, self.index, what=req.pin
        )


def _inputs(config: RepoConfig) -> list[str]:
    inputs = []
    if config.requirements is not None:
        _check_requirements(config, config.requirements, set())
        inputs.append(config.relative(config.requirements))
    if config.package:
        inputs.append(
            "pyproject.toml" if (config.root / "pyproject.toml").is_file() else "setup.py"
        )
    return inputs


def _check_requirements(config: RepoConfig, path: Path, seen: set[Path]) -> None:
    """Every line names a project of the index; included files stay in the repository."""
    seen.add(path)
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.partition(" #")[0].strip()
        where = f"{config.relative(path)}:{number}"
        include = INCLUDE.match(line)
        if include:
            other = (path.parent / include.group(2)).resolve()
            if not other.is_relative_to(config.root.resolve()) or not other.is_file():
                raise HubImagesError(f"{where}: {include.group(2)} is not a file of the repository")
            if other not in seen:
                _check_requirements(config, other, seen)
        elif NOT_FROM_AN_INDEX.match(line):
            raise HubImagesError(
                f"{where}: {line!r} is not a requirement from the package "
                "index (editables, paths, VCS and URLs cannot be locked)"
            )


def _write_lock(path: Path, name: str, entries: list[LockedRequirement]) -> Lock:
    lines = [f"# Resolved for the environment {name} by the build tool; do not edit."]
    for req in entries:
        hashes = " \\\n    ".join(f"--hash=sha256:{h}" for h in sorted(req.hashes))
        lines.append(f"{req.name}=={req.version} \\\n    {hashes}")
    text = "\n".join(lines) + "\n"
    write_atomically(path, text)
    return Lock(name, path, text.encode(), parse_lock(text, path))
