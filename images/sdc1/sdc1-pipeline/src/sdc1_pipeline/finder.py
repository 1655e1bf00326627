"""Source finding with PyBDSF and reading of its source / Gaussian lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from astropy.io import fits
from astropy.table import Table


def sdc1_bdsf_options(header: fits.Header) -> dict[str, Any]:
    """PyBDSF options used for SDC1.

    Hard thresholds (4 sigma island, 5 sigma peak) with a position-dependent rms map, and the
    restoring beam from BMAJ/BMIN: SDC1 headers have no BPA, the beam is circular, so PA = 0.
    """
    if "BMAJ" not in header or "BMIN" not in header:
        raise KeyError("image header needs BMAJ and BMIN")
    return {
        "thresh": "hard",
        "thresh_isl": 4.0,
        "thresh_pix": 5.0,
        "rms_map": True,
        "beam": (float(header["BMAJ"]), float(header["BMIN"]), float(header.get("BPA", 0.0))),
        "quiet": True,
    }


@dataclass
class BdsfResult:
    srl: pd.DataFrame  # source list
    gaul: pd.DataFrame  # Gaussian list
    rms: float  # median background rms, Jy/beam
    catalogues: dict[str, Path]


def run_pybdsf(
    image: str | Path, outdir: str | Path, formats: tuple[str, ...] = ("fits",), **overrides: Any
) -> BdsfResult:
    """Run PyBDSF on ``image`` with the SDC1 settings; outputs (and its log) go to ``outdir``.

    Source and Gaussian lists are written in each of ``formats`` ('fits', 'ascii', 'csv')
    and returned as pandas tables.
    """
    import bdsf
    import numpy as np

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    opts = sdc1_bdsf_options(fits.getheader(image)) | {"outdir": str(outdir)} | overrides
    img = bdsf.process_image(str(image), **opts)
    stem = Path(image).name.removesuffix(".fits")
    suffix = {"fits": ".fits", "ascii": "", "csv": ".csv"}
    written: dict[str, Path] = {}
    for fmt in formats:
        for kind in ("srl", "gaul"):
            path = outdir / f"{stem}.pybdsf.{kind}{suffix[fmt]}"
            img.write_catalog(
                outfile=str(path), format=fmt, catalog_type=kind, clobber=True, incl_empty=False
            )
            written[f"{kind}.{fmt}"] = path
    rms = float(np.nanmedian(img.rms_arr)) if getattr(img, "rms_arr", None) is not None else 0.0
    if img.nsrc == 0:
        return BdsfResult(pd.DataFrame(), pd.DataFrame(), rms, written)
    key = "fits" if "fits" in formats else formats[0]
    return BdsfResult(
        read_bdsf_catalogue(written[f"srl.{key}"]),
        read_bdsf_catalogue(written[f"gaul.{key}"]),
        rms,
        written,
    )


def read_bdsf_catalogue(path: str | Path) -> pd.DataFrame:
    """Read a PyBDSF source or Gaussian list written as FITS, CSV or ASCII."""
    path = Path(path)
    if path.suffix.lower() in (".fits", ".fit"):
        table = Table.read(path, format="fits")
        df = table.to_pandas()
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = (
                    df[col].str.decode("ascii").str.strip()
                    if isinstance(df[col].iloc[0], bytes)
                    else df[col].str.strip()
                )
        return df
    names: list[str] | None = None
    with open(path) as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                break
            fields = line.lstrip("#").replace(",", " ").split()
            if fields and fields[0] in ("Source_id", "Gaus_id"):
                names = fields
    if names is None:
        raise ValueError(f"{path}: no PyBDSF column header found")
    sep = "," if path.suffix.lower() == ".csv" else r"\s+"
    df = pd.read_csv(path, sep=sep, comment="#", header=None, skipinitialspace=True)
    df = df.iloc[:, : len(names)]
    df.columns = names
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].str.strip()
    return df
