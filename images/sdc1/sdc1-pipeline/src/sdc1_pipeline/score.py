"""Scoring with the official SDC1 scorer (``ska-sdc``)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .constants import CAT_COLUMNS, check_freq


@dataclass
class Score:
    value: float
    n_det: int
    n_match: int
    n_false: int
    n_bad: int
    acc_pc: float
    components: dict[str, float]  # mean per-match score of each property (0..1)
    matches: pd.DataFrame | None = None

    def summary(self) -> str:
        parts = " ".join(f"{k}={v:.3f}" for k, v in self.components.items())
        return (
            f"score={self.value:.2f} n_det={self.n_det} n_match={self.n_match} "
            f"n_false={self.n_false} accuracy={self.acc_pc:.1f}% [{parts}]"
        )


def _scorer() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            from ska_sdc import Sdc1Scorer
    except ImportError as err:  # pragma: no cover - environment problem
        raise ImportError("ska-sdc needs pandas<3 and a setuptools with pkg_resources") from err
    return Sdc1Scorer


def score_catalogue(
    sub: pd.DataFrame,
    truth: pd.DataFrame,
    freq: int,
    mode: int = 0,
    train: bool = True,
    detail: bool = False,
) -> Score:
    """Score ``sub`` against ``truth`` with ``ska_sdc.Sdc1Scorer``.

    ``train=True`` scores inside the training area only (where truth is public), ``mode`` 0/1
    cross-matches on core/centroid positions.
    """
    scorer_cls = _scorer()
    root = logging.getLogger()
    quiet = logging.NullHandler()  # keeps the scorer's logging.basicConfig(INFO) from printing
    root.addHandler(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scorer = scorer_cls(
                sub[CAT_COLUMNS].copy(), truth[CAT_COLUMNS].copy(), check_freq(freq)
            )
            res = scorer.run(mode=mode, train=train, detail=True)
    finally:
        root.removeHandler(quiet)
    comps: dict[str, float] = {}
    if res.scores_df is not None:
        comps = {c: float(res.scores_df[c].mean()) for c in res.scores_df.columns if c != "id"}
    return Score(
        float(res.value),
        int(res.n_det),
        int(res.n_match),
        int(res.n_false),
        int(res.n_bad),
        float(res.acc_pc),
        comps,
        res.match_df if detail else None,
    )
