"""Where the shared SDC1 sample data is: $SDC1_DATA, or shared/data/sdc1 beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SDC1_DATA"
CUTOUT = "B1_1000h_0.05tr.fits"


def sdc1_data(project_root: Path) -> Path | None:
    env = os.environ.get(DATA_ENV)
    path = Path(env) if env else project_root.parent / "shared" / "data" / "sdc1"
    return path.resolve() if (path / CUTOUT).is_file() else None
