"""Cross-matching to the truth and source classification (1 SS-AGN, 2 FS-AGN, 3 SFG)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.coordinates import SkyCoord

from .constants import SFG

FEATURES: list[str] = ["log_flux", "log_snr", "flux_ratio", "maj_beam", "axis_ratio", "n_gauss"]


def source_features(
    srl: pd.DataFrame, beam_arcsec: float, gaul: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Physically motivated, beam-normalised features of PyBDSF sources.

    * ``log_flux``: log10 integrated flux (AGN dominate the bright end of the counts);
    * ``log_snr``: log10 peak / local rms (how well the shape is measured);
    * ``flux_ratio``: integrated / peak flux, ~1 for point-like cores (FS-AGN), >1 if extended;
    * ``maj_beam``: fitted major axis in beams; ``axis_ratio``: minor / major (jets are thin);
    * ``n_gauss``: Gaussians in the source (lobes and hot spots of SS-AGN need several).
    """
    peak = srl["Peak_flux"].to_numpy()
    rms = srl["Isl_rms"].to_numpy() if "Isl_rms" in srl else np.full(len(srl), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(rms > 0, peak / rms, np.nan)
    if gaul is not None and len(gaul):
        counts = gaul.groupby("Source_id").size()
        n_gauss = srl["Source_id"].map(counts).fillna(1).to_numpy(dtype=float)
    else:
        n_gauss = np.where(srl.get("S_Code", pd.Series(["S"] * len(srl))) == "M", 2.0, 1.0)
    feats = pd.DataFrame(
        {
            "log_flux": np.log10(np.clip(srl["Total_flux"].to_numpy(), 1e-12, None)),
            "log_snr": np.log10(np.clip(np.nan_to_num(snr, nan=5.0), 1.0, None)),
            "flux_ratio": srl["Total_flux"].to_numpy() / np.clip(peak, 1e-12, None),
            "maj_beam": srl["Maj"].to_numpy() * 3600.0 / beam_arcsec,
            "axis_ratio": srl["Min"].to_numpy() / np.clip(srl["Maj"].to_numpy(), 1e-12, None),
            "n_gauss": n_gauss,
        }
    )
    return feats[FEATURES]


def crossmatch(
    ra: np.ndarray,
    dec: np.ndarray,
    flux: np.ndarray,
    truth: pd.DataFrame,
    radius_arcsec: float,
    max_dex: float = 0.5,
) -> np.ndarray:
    """Index into ``truth`` of the counterpart of each source, -1 if none.

    Candidates are truth sources within ``radius_arcsec`` of the source (core or centroid);
    the one minimising (sep / radius)^2 + (dlog flux / 0.2)^2 wins, provided its flux is within
    ``max_dex`` of the measured one (the truth is dense: a position-only match would often pick
    a faint neighbour of the detected source). Each truth source is used once.
    """
    if len(ra) == 0 or len(truth) == 0:
        return np.full(len(ra), -1, dtype=int)
    src = SkyCoord(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg)
    best = np.full(len(ra), -1, dtype=int)
    cost = np.full(len(ra), np.inf)
    lflux = np.log10(np.clip(np.asarray(flux, dtype=float), 1e-12, None))
    tflux = np.log10(np.clip(truth["flux"].to_numpy(), 1e-12, None))
    for kind in ("core", "cent"):
        tru = SkyCoord(
            truth[f"ra_{kind}"].to_numpy() * u.deg, truth[f"dec_{kind}"].to_numpy() * u.deg
        )
        i_src, i_tru, sep, _ = tru.search_around_sky(src, radius_arcsec * u.arcsec)
        dlog = np.abs(lflux[i_src] - tflux[i_tru])
        c = (sep.arcsec / radius_arcsec) ** 2 + (dlog / 0.2) ** 2
        for s, t, ci, d in zip(i_src, i_tru, c, dlog, strict=True):
            if d <= max_dex and ci < cost[s]:
                cost[s], best[s] = ci, t
    # one truth source per detection: keep the cheapest claim
    order = np.argsort(cost)
    used: set[int] = set()
    for s in order:
        if best[s] >= 0:
            if best[s] in used:
                best[s] = -1
            else:
                used.add(int(best[s]))
    return best


@dataclass
class SourceClassifier:
    """Shallow random forest on :data:`FEATURES`, used only where it beats the majority class.

    With fewer than two classes having ``min_per_class`` training matches, or when stratified
    cross-validation does not beat always predicting the majority class, every source gets the
    majority class of the training set (SFG when there is no training set: SFGs are ~95 % of
    SDC1 sources at these depths).
    """

    min_per_class: int = 8
    n_folds: int = 5
    random_state: int = 0
    model: Any = None
    default_class: int = SFG
    info: dict[str, Any] = field(default_factory=dict)

    def _new_model(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=200, max_depth=3, min_samples_leaf=3, random_state=self.random_state
        )

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> SourceClassifier:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        y = np.asarray(y, dtype=int)
        self.model = None
        self.info = {"n_train": len(y), "counts": {int(c): int((y == c).sum()) for c in set(y)}}
        if len(y) == 0:
            self.default_class = SFG
            self.info["reason"] = "no training matches"
            return self
        classes, counts = np.unique(y, return_counts=True)
        self.default_class = int(classes[np.argmax(counts)])
        keep_cls = classes[counts >= self.min_per_class]
        if len(keep_cls) < 2:
            self.info["reason"] = f"fewer than 2 classes with >= {self.min_per_class} matches"
            return self
        keep = np.isin(y, keep_cls)
        xk, yk = x[FEATURES].to_numpy()[keep], y[keep]
        folds = min(self.n_folds, int(np.min(np.unique(yk, return_counts=True)[1])))
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        acc = float(np.mean(cross_val_score(self._new_model(), xk, yk, cv=cv)))
        base = float(np.mean(y == self.default_class))
        self.info |= {"cv_accuracy": acc, "baseline_accuracy": base}
        if acc <= base:
            self.info["reason"] = "cross-validation does not beat the majority class"
            return self
        self.model = self._new_model().fit(xk, yk)
        self.info["reason"] = "random forest"
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        if self.model is None or len(x) == 0:
            return np.full(len(x), self.default_class, dtype=np.int64)
        return self.model.predict(x[FEATURES].to_numpy()).astype(np.int64)

    def predict_out_of_fold(self, x: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Predictions for the training sources themselves, each from a model that did not see
        it (stratified k-fold), for an honest score on the training area."""
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y, dtype=int)
        out = self.predict(x)
        if self.model is None:
            return out
        keep = np.isin(y, self.model.classes_)
        idx = np.flatnonzero(keep)
        folds = min(self.n_folds, int(np.min(np.unique(y[keep], return_counts=True)[1])))
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        xa = x[FEATURES].to_numpy()
        for tr, te in cv.split(idx, y[idx]):
            m = self._new_model().fit(xa[idx[tr]], y[idx[tr]])
            out[idx[te]] = m.predict(xa[idx[te]])
        return out


def core_fractions(truth: pd.DataFrame) -> dict[int, float]:
    """Median core fraction of each class in a truth table (FS-AGN are core dominated)."""
    med = truth.groupby("class")["core_frac"].median()
    return {int(k): float(v) if v > 0 else 0.0 for k, v in med.items()}
