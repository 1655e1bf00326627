"""SDC1 catalogues: reading/writing, PyBDSF -> submission conversion and the size prior."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .constants import CAT_COLUMNS, SFG, SIZE_GAUSSIAN, TrainArea, wrap_ra

DEG2ARCSEC = 3600.0


def read_sdc1_catalogue(path: str | Path) -> pd.DataFrame:
    """Read an SDC1 truth or submission catalogue (whitespace separated, optional header)."""
    with open(path) as fh:
        first = fh.readline().split()
    has_header = bool(first) and first[0].lstrip("#") == "id"
    df = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=CAT_COLUMNS,
        skiprows=1 if has_header else 0,
        comment="#",
    )
    return df.astype({"id": "int64", "size": "int64", "class": "int64"})


def write_sdc1_catalogue(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a submission: one header line with the column names, then whitespace-separated rows.

    This is the layout ``Sdc1Scorer.from_txt`` reads with its default ``sub_skiprows=1``.
    """
    validate_submission(df)
    df[CAT_COLUMNS].to_csv(path, sep=" ", index=False, float_format="%.10g")
    return Path(path)


def validate_submission(df: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``df`` is a valid SDC1 submission."""
    if list(df.columns) != CAT_COLUMNS:
        raise ValueError(f"columns must be {CAT_COLUMNS}, got {list(df.columns)}")
    if not all(np.issubdtype(t, np.number) for t in df.dtypes):
        raise ValueError("all columns must be numeric")
    if df.isna().any().any():
        raise ValueError("catalogue contains NaN")
    if ((df["ra_core"] < -180) | (df["ra_core"] > 180)).any():
        raise ValueError("RA must be wrapped to -180..180")
    if not df["class"].isin([1, 2, 3]).all() or not df["size"].isin([1, 2, 3]).all():
        raise ValueError("class and size must be 1, 2 or 3")


def sdc1_pa(pa_east_of_north: np.ndarray) -> np.ndarray:
    """Convert PyBDSF PA (north through east) to the SDC1 truth convention.

    The SDC1 (T-RECS) truth measures the major-axis angle from the east (x) axis towards north,
    i.e. 90 deg - PA(N->E); the result is folded to [-90, 90) as in the SFG truth.
    """
    pa = 90.0 - np.asarray(pa_east_of_north, dtype=float)
    return ((pa + 90.0) % 180.0) - 90.0


@dataclass
class SizePrior:
    """Median intrinsic Gaussian FWHM (arcsec) as a function of flux, learnt from a truth table.

    Used to shrink noisy deconvolved sizes of faint sources towards the size that sources of
    their flux have (the flux-size relation of star-forming galaxies); sizes of well-resolved
    sources are kept as measured.
    """

    log_flux: np.ndarray  # bin centres, log10 Jy
    log_maj: np.ndarray  # median log10 b_maj per bin
    log_min: np.ndarray  # median log10 b_min per bin
    sig_maj: np.ndarray  # robust scatter of log10 b_maj per bin (dex)
    sig_min: np.ndarray
    meta: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        truth: pd.DataFrame,
        flux_min: float = 1e-6,
        bin_dex: float = 0.2,
        min_per_bin: int = 10,
    ) -> SizePrior:
        """Fit from truth sources with Gaussian-FWHM sizes (size == 2) brighter than flux_min.

        Medians and robust (MAD) scatters of log10 size in ``bin_dex`` wide log-flux bins;
        bins with fewer than ``min_per_bin`` sources are skipped (interpolation bridges them).
        """
        t = truth[
            (truth["size"] == SIZE_GAUSSIAN)
            & (truth["flux"] > flux_min)
            & (truth["b_maj"] > 0)
            & (truth["b_min"] > 0)
        ]
        lf = np.log10(t["flux"].to_numpy())
        bins = np.floor(lf / bin_dex).astype(int)
        rows = []
        for b in np.unique(bins):
            sel = bins == b
            if sel.sum() < min_per_bin:
                continue
            lmaj = np.log10(t["b_maj"].to_numpy()[sel])
            lmin = np.log10(t["b_min"].to_numpy()[sel])
            rows.append(
                (
                    np.median(lf[sel]),
                    np.median(lmaj),
                    np.median(lmin),
                    1.4826 * np.median(np.abs(lmaj - np.median(lmaj))),
                    1.4826 * np.median(np.abs(lmin - np.median(lmin))),
                )
            )
        if not rows:
            raise ValueError(f"no flux bin has {min_per_bin} truth sources above {flux_min} Jy")
        a = np.array(rows)
        return cls(
            a[:, 0],
            a[:, 1],
            a[:, 2],
            np.maximum(a[:, 3], 0.05),
            np.maximum(a[:, 4], 0.05),
            {"n_truth": float(len(t)), "flux_min": flux_min},
        )

    def at(self, flux: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Prior (log b_maj, log b_min, sigma_maj, sigma_min) at the given fluxes (Jy)."""
        lf = np.log10(np.clip(np.asarray(flux, dtype=float), 1e-12, None))
        return tuple(
            np.interp(lf, self.log_flux, v)  # type: ignore[return-value]
            for v in (self.log_maj, self.log_min, self.sig_maj, self.sig_min)
        )


def _shrink(dc: np.ndarray, err: np.ndarray, prior: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Inverse-variance combination in log10 size of a measurement and a prior.

    ``dc`` <= 0 (PyBDSF could not deconvolve: unresolved) means no size information.
    """
    ok = dc > 0
    out = prior.copy()
    lm = np.log10(dc[ok])
    sm = np.maximum(err[ok] / (dc[ok] * np.log(10.0)), 1e-3)
    w = sig[ok] ** -2 / (sig[ok] ** -2 + sm**-2)
    out[ok] = w * prior[ok] + (1 - w) * lm
    return 10**out


def estimate_sizes(
    srl: pd.DataFrame, prior: SizePrior | None, min_size: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Intrinsic (deconvolved) Gaussian FWHMs in arcsec from a PyBDSF source list.

    The error of a deconvolved axis is the fitted-axis error times theta_conv / theta_dc
    (derivative of sqrt(theta_conv^2 - theta_beam^2)); PyBDSF reports the fitted-axis error.
    Without a prior, deconvolved sizes are used as they are (unresolved ones get ``min_size``).
    """
    maj_c, min_c = srl["Maj"].to_numpy() * DEG2ARCSEC, srl["Min"].to_numpy() * DEG2ARCSEC
    dmaj, dmin = srl["DC_Maj"].to_numpy() * DEG2ARCSEC, srl["DC_Min"].to_numpy() * DEG2ARCSEC
    with np.errstate(divide="ignore", invalid="ignore"):
        emaj = srl["E_Maj"].to_numpy() * DEG2ARCSEC * np.where(dmaj > 0, maj_c / dmaj, 1.0)
        emin = srl["E_Min"].to_numpy() * DEG2ARCSEC * np.where(dmin > 0, min_c / dmin, 1.0)
    if prior is None:
        b_maj, b_min = np.maximum(dmaj, min_size), np.maximum(dmin, min_size)
    else:
        pmaj, pmin, smaj, smin = prior.at(srl["Total_flux"].to_numpy())
        b_maj = _shrink(dmaj, emaj, pmaj, smaj)
        b_min = _shrink(dmin, emin, pmin, smin)
    b_maj = np.maximum(b_maj, min_size)
    return b_maj, np.clip(b_min, min_size, b_maj)


def seed_catalogue(srl: pd.DataFrame) -> pd.DataFrame:
    """The seed SDC1 solution: fitted (convolved) PyBDSF sizes and PA as they are, all SFG."""
    return pd.DataFrame(
        {
            "id": srl["Source_id"].astype("int64"),
            "ra_core": wrap_ra(srl["RA_max"].to_numpy()),
            "dec_core": srl["DEC_max"].to_numpy(),
            "ra_cent": wrap_ra(srl["RA"].to_numpy()),
            "dec_cent": srl["DEC"].to_numpy(),
            "flux": srl["Total_flux"].to_numpy(),
            "core_frac": 0.0,
            "b_maj": srl["Maj"].to_numpy() * DEG2ARCSEC,
            "b_min": srl["Min"].to_numpy() * DEG2ARCSEC,
            "pa": srl["PA"].to_numpy(),
            "size": SIZE_GAUSSIAN,
            "class": SFG,
        }
    )[CAT_COLUMNS]


def to_submission(
    srl: pd.DataFrame,
    classes: np.ndarray | None = None,
    core_frac: dict[int, float] | None = None,
    prior: SizePrior | None = None,
    area: TrainArea | None = None,
) -> pd.DataFrame:
    """Convert a PyBDSF source list (of a primary-beam-corrected image) to an SDC1 submission.

    * core position = position of the peak (``RA_max``), centroid = fitted centroid (``RA``);
    * flux = integrated flux (primary-beam corrected if the image was);
    * b_maj/b_min = deconvolved Gaussian FWHM (arcsec), shrunk to ``prior`` when noisy;
    * pa = deconvolved PA converted to the SDC1 convention (see :func:`sdc1_pa`);
    * size = 2 (Gaussian FWHM); class from ``classes`` (default SFG);
    * core_frac = typical core fraction of the class (``core_frac``; default 0.75 for FS-AGN).
    ``area`` keeps only sources whose core lies inside it.
    """
    cls = np.full(len(srl), SFG, dtype=np.int64) if classes is None else np.asarray(classes)
    cf_map = {1: 0.0, 2: 0.75, 3: 0.0} | (core_frac or {})
    b_maj, b_min = estimate_sizes(srl, prior)
    pa = np.where(srl["DC_Maj"].to_numpy() > 0, srl["DC_PA"].to_numpy(), srl["PA"].to_numpy())
    df = pd.DataFrame(
        {
            "id": srl["Source_id"].astype("int64").to_numpy(),
            "ra_core": wrap_ra(srl["RA_max"].to_numpy()),
            "dec_core": srl["DEC_max"].to_numpy(),
            "ra_cent": wrap_ra(srl["RA"].to_numpy()),
            "dec_cent": srl["DEC"].to_numpy(),
            "flux": srl["Total_flux"].to_numpy(),
            "core_frac": np.array([cf_map[int(c)] for c in cls], dtype=float),
            "b_maj": b_maj,
            "b_min": b_min,
            "pa": sdc1_pa(pa),
            "size": np.full(len(srl), SIZE_GAUSSIAN, dtype=np.int64),
            "class": cls.astype(np.int64),
        }
    )
    if area is not None:
        inside = [area.contains(r, d) for r, d in zip(df["ra_core"], df["dec_core"], strict=True)]
        df = df[np.asarray(inside, dtype=bool)].reset_index(drop=True)
    return df
