"""End-to-end SDC1 pipeline: preprocess, find, train, catalogue, score."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

from .catalogue import SizePrior, read_sdc1_catalogue, seed_catalogue, to_submission
from .classify import SourceClassifier, core_fractions, crossmatch, source_features
from .constants import TRAIN_AREAS, beam_fwhm_arcsec, check_freq
from .finder import run_pybdsf
from .preprocess import celestial_wcs, preprocess
from .score import Score, score_catalogue


@dataclass
class PipelineResult:
    catalogue: pd.DataFrame
    srl: pd.DataFrame
    gaul: pd.DataFrame
    features: pd.DataFrame
    matches: np.ndarray  # truth row of each PyBDSF source, -1 if unmatched
    classifier: SourceClassifier
    prior: SizePrior | None
    score: Score | None
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def in_footprint(image: str | Path, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Whether sky positions (deg) fall on the pixel grid of ``image``."""
    header = fits.getheader(image)
    return celestial_wcs(header).footprint_contains(SkyCoord(ra * u.deg, dec * u.deg))


def fit_prior(
    truth: pd.DataFrame, exclude: np.ndarray | None, notes: list[str]
) -> SizePrior | None:
    """Size prior from the truth, leaving out ``exclude`` (the scored sources) when possible;
    ``None`` (deconvolved sizes as measured) when the truth is too small for one."""
    if exclude is not None and exclude.any():
        try:
            return SizePrior.fit(truth[~exclude])
        except ValueError:
            notes.append("size prior: too few truth sources off the image, used all of them")
    try:
        return SizePrior.fit(truth)
    except ValueError as err:
        notes.append(f"no size prior ({err})")
        return None


def run_pipeline(
    image: str | Path,
    workdir: str | Path,
    pb: str | Path | None = None,
    truth: str | Path | pd.DataFrame | None = None,
    freq: int = 560,
    area: str = "train",
    mode: int = 0,
) -> PipelineResult:
    """Run the SDC1 solution on ``image``; all files go to ``workdir``.

    ``area='train'`` crops the image to the training area and scores there (truth is public);
    ``area='all'`` keeps the whole image and scores outside the training area (held-out data).
    With ``truth``, the size prior and the classifier are learnt from it; sources matched to it
    get out-of-fold class predictions, so the reported score is not a training-set score.
    """
    freq = check_freq(freq)
    if area not in ("train", "all"):
        raise ValueError("area must be 'train' or 'all'")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    notes: list[str] = []

    t0 = time.perf_counter()
    stem = Path(image).name.removesuffix(".fits")
    pre = preprocess(
        image, work / f"{stem}.pbcor.fits", pb=pb, freq=freq if area == "train" else None
    )
    timings["preprocess"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = run_pybdsf(pre, work, formats=("fits", "ascii"))
    timings["pybdsf"] = time.perf_counter() - t0
    srl, gaul = found.srl, found.gaul
    if srl.empty:
        raise RuntimeError("PyBDSF found no sources")

    t0 = time.perf_counter()
    feats = source_features(srl, beam_fwhm_arcsec(freq), gaul)
    clf = SourceClassifier()
    prior: SizePrior | None = None
    core_frac: dict[int, float] | None = None
    matches = np.full(len(srl), -1, dtype=int)
    tdf: pd.DataFrame | None = None
    if truth is not None:
        tdf = truth if isinstance(truth, pd.DataFrame) else read_sdc1_catalogue(truth)
        exclude = (
            in_footprint(pre, tdf["ra_core"].to_numpy(), tdf["dec_core"].to_numpy())
            if area == "train"
            else None
        )
        prior = fit_prior(tdf, exclude, notes)
        core_frac = core_fractions(tdf)
        matches = crossmatch(
            srl["RA_max"].to_numpy(),
            srl["DEC_max"].to_numpy(),
            srl["Total_flux"].to_numpy(),
            tdf,
            beam_fwhm_arcsec(freq),
        )
        ok = matches >= 0
        y = tdf["class"].to_numpy()[matches[ok]]
        clf.fit(feats[ok], y)
        classes = clf.predict(feats)
        classes[ok] = clf.predict_out_of_fold(feats[ok].reset_index(drop=True), y)
    else:
        classes = clf.predict(feats)
        notes.append("no truth: sizes not shrunk to a prior, every source classed SFG")
    notes.append(f"classifier: {clf.info.get('reason', 'default')}")
    cat = to_submission(
        srl, classes, core_frac, prior, area=TRAIN_AREAS[freq] if area == "train" else None
    )
    timings["catalogue"] = time.perf_counter() - t0

    score = None
    if tdf is not None:
        t0 = time.perf_counter()
        score = score_catalogue(cat, tdf, freq, mode=mode, train=area == "train")
        timings["score"] = time.perf_counter() - t0
    files = {"preprocessed": pre, **found.catalogues}
    return PipelineResult(cat, srl, gaul, feats, matches, clf, prior, score, timings, files, notes)


def run_seed(
    image: str | Path,
    workdir: str | Path,
    truth: str | Path | pd.DataFrame,
    freq: int = 560,
    area: str = "train",
    mode: int = 0,
) -> tuple[pd.DataFrame, Score]:
    """The seed solution for comparison: PyBDSF on the image as it is (no primary-beam
    correction), fitted sizes, every source SFG."""
    work = Path(workdir) / "seed"
    work.mkdir(parents=True, exist_ok=True)
    stem = Path(image).name.removesuffix(".fits")
    pre = preprocess(image, work / f"{stem}.fits", freq=freq if area == "train" else None)
    cat = seed_catalogue(run_pybdsf(pre, work).srl)
    tdf = truth if isinstance(truth, pd.DataFrame) else read_sdc1_catalogue(truth)
    return cat, score_catalogue(cat, tdf, freq, mode=mode, train=area == "train")
