"""Where the SDC1 sample data is: data/sdc1 of this repository, or $SDC1_DATA."""

from __future__ import annotations

import os
from pathlib import Path

from hubimages.errors import HubImagesError

DATA_ENV = "SDC1_DATA"
CUTOUT = "B1_1000h_0.05tr.fits"
DATA_FOLDER = Path("data") / "sdc1"  # relative to the repository (build-matrix.yaml's folder)


def sdc1_data(project_root: Path) -> Path | None:
    """The folder holding the cutout, or None when it is not there (a broken checkout)."""
    env = os.environ.get(DATA_ENV)
    path = Path(env) if env else project_root / DATA_FOLDER
    return path.resolve() if (path / CUTOUT).is_file() else None


def require_sdc1_data(project_root: Path) -> Path:
    """The sample data folder, or one line naming where it was looked for and the fix."""
    path = sdc1_data(project_root)
    if path is None:
        where = os.environ.get(DATA_ENV) or str(project_root / DATA_FOLDER)
        raise HubImagesError(
            f"SDC1 sample data not found: no {CUTOUT} in {where}; restore "
            f"{DATA_FOLDER} with `git checkout -- {DATA_FOLDER}` or point "
            f"{DATA_ENV} at a copy"
        )
    return path
