"""Shared fixtures: the SDC1 sample data (if present) and a synthetic SDC1-like field."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from sdc1_pipeline.constants import CAT_COLUMNS

BEAM_DEG = 4.1666667e-4  # 1.5 arcsec, as the 560 MHz images
PIX_DEG = 1.67847e-4
CENTRE = (359.68, -29.67)  # inside the 560 MHz training area


def _data_candidates() -> list[Path]:
    here = Path(__file__).resolve()
    cands = [Path(os.environ["SDC1_DATA"])] if os.environ.get("SDC1_DATA") else []
    cands.append(Path("/data/sdc1"))
    cands += [p / "data" / "sdc1" for p in here.parents]  # the repository's sample data
    return cands


@pytest.fixture(scope="session")
def data_dir() -> Path:
    for cand in _data_candidates():
        if (cand / "B1_1000h_0.05tr.fits").is_file():
            return cand
    pytest.skip("SDC1 sample data not found (set SDC1_DATA)")


def image_header(
    nx: int,
    ny: int,
    centre: tuple[float, float] = CENTRE,
    pix: float = PIX_DEG,
    freq: float = 5.6e8,
) -> fits.Header:
    """A 4-D SDC1-like header (RA---SIN / DEC--SIN / FREQ / STOKES), no BPA."""
    h = fits.Header()
    h["NAXIS"] = 4
    for i, n in enumerate((nx, ny, 1, 1), start=1):
        h[f"NAXIS{i}"] = n
    h.update(
        {
            "BUNIT": "JY/BEAM",
            "CTYPE1": "RA---SIN",
            "CRVAL1": centre[0],
            "CDELT1": -pix,
            "CRPIX1": nx / 2 + 0.5,
            "CTYPE2": "DEC--SIN",
            "CRVAL2": centre[1],
            "CDELT2": pix,
            "CRPIX2": ny / 2 + 0.5,
            "CTYPE3": "FREQ",
            "CRVAL3": freq,
            "CDELT3": 1e8,
            "CRPIX3": 1.0,
            "CTYPE4": "STOKES",
            "CRVAL4": 1.0,
            "CDELT4": 1.0,
            "CRPIX4": 1.0,
            "BMAJ": BEAM_DEG,
            "BMIN": BEAM_DEG,
            "EQUINOX": 2000.0,
        }
    )
    return h


def write_fits(path: Path, data: np.ndarray, header: fits.Header) -> Path:
    fits.PrimaryHDU(data[None, None].astype(np.float32), header=header).writeto(path)
    return path


@dataclass
class Field:
    image: Path
    pb: Path
    truth: Path
    truth_df: pd.DataFrame
    pb_value: float


def make_field(
    tmp: Path,
    n_src: int = 12,
    seed: int = 1,
    pb_value: float = 0.8,
    noise: float = 1e-6,
    size: int = 160,
) -> Field:
    """Synthetic field of Gaussian sources (true fluxes/sizes in a truth catalogue), observed
    through a flat primary beam of ``pb_value`` with Gaussian noise."""
    from astropy.wcs import WCS

    rng = np.random.default_rng(seed)
    header = image_header(size, size)
    wcs = WCS(header, naxis=2)
    yy, xx = np.mgrid[0:size, 0:size]
    img = rng.normal(0.0, noise, (size, size))
    beam_pix = BEAM_DEG / PIX_DEG
    rows = []
    grid = np.linspace(20, size - 20, int(np.ceil(np.sqrt(n_src))))
    pos = [(x, y) for x in grid for y in grid][:n_src]
    for i, (x0, y0) in enumerate(pos):
        x0, y0 = x0 + rng.uniform(-2, 2), y0 + rng.uniform(-2, 2)
        flux = 10 ** rng.uniform(-4.7, -4.0)  # 20-100 uJy
        b_maj = rng.uniform(0.3, 2.5)  # arcsec, intrinsic FWHM
        b_min = b_maj * rng.uniform(0.4, 1.0)
        pa = rng.uniform(0, 180)  # north through east
        cmaj = np.hypot(b_maj / 3600 / PIX_DEG, beam_pix)
        cmin = np.hypot(b_min / 3600 / PIX_DEG, beam_pix)
        th = np.deg2rad(pa)
        # PA from north (+y) through east (-x)
        dx, dy = xx - x0, yy - y0
        u_ = -dx * np.sin(th) + dy * np.cos(th)  # along the major axis
        v_ = dx * np.cos(th) + dy * np.sin(th)
        sig = 1 / np.sqrt(8 * np.log(2))
        peak = flux * beam_pix**2 / (cmaj * cmin)
        r2 = (u_ / (cmaj * sig)) ** 2 + (v_ / (cmin * sig)) ** 2
        img += pb_value * peak * np.exp(-0.5 * r2)
        ra, dec = wcs.all_pix2world(x0, y0, 0)
        ra = float(ra) - 360.0 if ra > 180 else float(ra)
        rows.append((i, ra, float(dec), ra, float(dec), flux, 0.0, b_maj, b_min, 90.0 - pa, 2, 3))
    truth = pd.DataFrame(rows, columns=CAT_COLUMNS)
    image = write_fits(tmp / "synthetic.fits", img, header)
    pbh = image_header(12, 12, pix=0.02)
    pbh.remove("BMAJ")
    pbh.remove("BMIN")
    pb = write_fits(tmp / "synthetic_pb.fits", np.full((12, 12), pb_value), pbh)
    truth_path = tmp / "synthetic_truth.cat"
    truth.to_csv(truth_path, sep=" ", header=False, index=False)
    return Field(image, pb, truth_path, truth, pb_value)


@pytest.fixture(scope="session")
def field(tmp_path_factory: pytest.TempPathFactory) -> Field:
    return make_field(tmp_path_factory.mktemp("field"))
