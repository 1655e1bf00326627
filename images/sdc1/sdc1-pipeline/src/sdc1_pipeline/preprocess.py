"""Image preparation: crop to the SDC1 training area and primary-beam correction."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.wcs import WCS

from .constants import TRAIN_AREAS, check_freq

PixelBox = tuple[slice, slice]  # (y, x) slices


def read_image(path: str | Path) -> tuple[np.ndarray, fits.Header]:
    """Return the 2-D (y, x) plane of a radio image and its full header."""
    with fits.open(path, memmap=True) as hdul, warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # BLANK on float data (SDC1 images)
        header = hdul[0].header.copy()
        data = np.asarray(hdul[0].data, dtype=np.float32)
    while data.ndim > 2:
        data = data[0]
    header.remove("BLANK", ignore_missing=True, remove_all=True)  # float data: BLANK is invalid
    return data.copy(), header


def celestial_wcs(header: fits.Header) -> WCS:
    return WCS(header, naxis=2).celestial


def train_area_box(header: fits.Header, shape: tuple[int, int], freq: int) -> PixelBox:
    """Pixel box of the image that covers the SDC1 training area of band ``freq``.

    The box is the intersection of the image with the pixel bounding box of the
    training area, so an image (or cutout) lying inside the area is returned whole.
    Raises ``ValueError`` when the image and the training area do not overlap.
    """
    area = TRAIN_AREAS[check_freq(freq)]
    n = 256
    ra = np.concatenate(
        [
            np.linspace(area.ra_min, area.ra_max, n),
            np.full(n, area.ra_max),
            np.linspace(area.ra_max, area.ra_min, n),
            np.full(n, area.ra_min),
        ]
    )
    dec = np.concatenate(
        [
            np.full(n, area.dec_min),
            np.linspace(area.dec_min, area.dec_max, n),
            np.full(n, area.dec_max),
            np.linspace(area.dec_max, area.dec_min, n),
        ]
    )
    x, y = celestial_wcs(header).all_world2pix(ra % 360.0, dec, 0)
    ny, nx = shape
    x0, x1 = max(int(np.floor(x.min())), 0), min(int(np.ceil(x.max())) + 1, nx)
    y0, y1 = max(int(np.floor(y.min())), 0), min(int(np.ceil(y.max())) + 1, ny)
    if x0 >= x1 or y0 >= y1:
        raise ValueError(f"image does not overlap the {freq} MHz training area")
    return slice(y0, y1), slice(x0, x1)


def crop(data: np.ndarray, header: fits.Header, box: PixelBox) -> tuple[np.ndarray, fits.Header]:
    """Crop a 2-D plane and shift the reference pixel of its (possibly 4-D) header."""
    ys, xs = box
    header = header.copy()
    header["CRPIX1"] = header["CRPIX1"] - xs.start
    header["CRPIX2"] = header["CRPIX2"] - ys.start
    out = data[ys, xs]
    header["NAXIS1"], header["NAXIS2"] = out.shape[1], out.shape[0]
    return out, header


def beam_on_grid(pb_path: str | Path, header: fits.Header, shape: tuple[int, int]) -> np.ndarray:
    """Reproject the primary-beam image onto the image grid (bilinear); NaN off the beam map."""
    from reproject import reproject_interp

    pb, pb_header = read_image(pb_path)
    out, footprint = reproject_interp(
        (pb, celestial_wcs(pb_header)), celestial_wcs(header), shape_out=shape, order="bilinear"
    )
    out[footprint == 0] = np.nan
    return out.astype(np.float32)


def pb_correct(data: np.ndarray, beam: np.ndarray, pb_min: float = 0.1) -> np.ndarray:
    """Divide by the primary beam; pixels where the beam is below ``pb_min`` are blanked."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = data / beam
    out[~(beam >= pb_min)] = np.nan
    return out.astype(np.float32)


def write_image(path: str | Path, data: np.ndarray, header: fits.Header) -> Path:
    """Write a 2-D plane with the original header, keeping its degenerate FREQ/STOKES axes."""
    naxis = int(header.get("NAXIS", 2))
    full = data.reshape((1,) * (naxis - 2) + data.shape)
    fits.PrimaryHDU(full, header=header).writeto(path, overwrite=True)
    return Path(path)


def preprocess(
    image: str | Path,
    out: str | Path,
    pb: str | Path | None = None,
    freq: int | None = None,
    pb_min: float = 0.1,
) -> Path:
    """Crop ``image`` to the training area of band ``freq`` (if given) and divide by ``pb``.

    The result is written to ``out`` (never next to the input image) and its path returned.
    """
    data, header = read_image(image)
    if freq is not None:
        data, header = crop(data, header, train_area_box(header, data.shape, freq))
    if pb is not None:
        data = pb_correct(data, beam_on_grid(pb, header, data.shape), pb_min)
        header["HISTORY"] = f"sdc1-pipeline: divided by primary beam {Path(pb).name}"
    return write_image(out, data, header)
