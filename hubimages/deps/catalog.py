"""Every local wheel the image folders declare, and the wheel a lock pins for each."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from hubimages.core.cache import CacheLayout
from hubimages.core.files import file_sha256
from hubimages.deps.declarations import LocalWheel, declared
from hubimages.deps.index import PackageIndex
from hubimages.deps.wheelbuild import ensure, find_built
from hubimages.errors import HubImagesError, display_path


@dataclass(frozen=True)
class LocalWheelCatalog:
    """The declarations of one checkout's image folders, with where their wheels are built."""

    wheels: tuple[LocalWheel, ...]
    index: PackageIndex
    cache: CacheLayout

    @classmethod
    def of_folders(
        cls, folders: Iterable[Path], index: PackageIndex, cache: CacheLayout
    ) -> LocalWheelCatalog:
        return cls(tuple(declared(folders)), index, cache)

    @classmethod
    def of_images(
        cls, images_folder: Path, index: PackageIndex, cache: CacheLayout
    ) -> LocalWheelCatalog:
        """Every folder under images/: a lock pins a local wheel by project and version,
        whichever folder of the lineage declares it."""
        folders = sorted(p for p in images_folder.iterdir() if p.is_dir())
        return cls.of_folders(folders, index, cache)

    def declaration(self, name: str, version: str) -> LocalWheel | None:
        if "+" not in version:
            return None
        return next(
            (
                w
                for w in self.wheels
                if w.normalized == canonicalize_name(name) and w.local_version == version
            ),
            None,
        )

    def wheel_for(self, name: str, version: str, hashes: Iterable[str]) -> Path | None:
        """The local wheel a lock pins as name==version, built if missing; None if undeclared."""
        wheel = self.declaration(name, version)
        if wheel is None:
            return None
        wanted = set(hashes)
        for path in find_built(wheel, self.cache.local_wheels):
            if file_sha256(path) in wanted:
                return path
        built = ensure(wheel, self.index, self.cache, rebuild=True)
        if file_sha256(built) not in wanted:
            raise HubImagesError(
                f"{wheel.pin}: the wheel built from {display_path(wheel.source)} has sha256 "
                f"{file_sha256(built)[:12]}..., not the locked one: the declaration or its "
                "build changed; rerun `invoke lock` for the images that include it"
            )
        return built

    def find_links_for_lock(self, image: str) -> Path | None:
        """(Re)build the wheels and put exactly them in a find-links folder for one lock.

        A folder per image, so a lock never sees another image's local wheels.
        """
        if not self.wheels:
            return None
        folder = self.cache.lock_find_links(image)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for wheel in self.wheels:
            built = ensure(wheel, self.index, self.cache, rebuild=True)
            shutil.copyfile(built, folder / built.name)
        return folder
