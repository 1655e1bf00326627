from __future__ import annotations

import numpy as np
import pandas as pd
from test_catalogue import fake_srl

from sdc1_pipeline.classify import (
    FEATURES,
    SourceClassifier,
    core_fractions,
    crossmatch,
    source_features,
)


def synthetic_features(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice([1, 3], size=n, p=[0.3, 0.7])
    x = pd.DataFrame(rng.normal(0, 1, (n, len(FEATURES))), columns=FEATURES)
    x.loc[y == 1, "n_gauss"] += 3  # SS-AGN: several Gaussians
    x.loc[y == 1, "maj_beam"] += 3
    return x, y


def test_features_are_finite_and_physical() -> None:
    f = source_features(fake_srl(), beam_arcsec=1.5)
    assert list(f.columns) == FEATURES
    assert np.isfinite(f.to_numpy()).all()
    assert f.loc[1, "n_gauss"] == 2  # S_Code M
    assert f.loc[1, "flux_ratio"] > 1


def test_few_matches_fall_back_to_majority() -> None:
    x, _ = synthetic_features(20)
    y = np.array([3] * 19 + [2])
    clf = SourceClassifier().fit(x, y)
    assert clf.model is None
    assert (clf.predict(x) == 3).all()
    assert (clf.predict_out_of_fold(x, y) == 3).all()


def test_no_training_data_predicts_sfg() -> None:
    clf = SourceClassifier().fit(pd.DataFrame(columns=FEATURES), np.array([]))
    assert (clf.predict(synthetic_features(5)[0]) == 3).all()


def test_learns_separable_classes_with_cross_validation() -> None:
    x, y = synthetic_features(200)
    clf = SourceClassifier().fit(x, y)
    assert clf.model is not None
    assert clf.info["cv_accuracy"] > clf.info["baseline_accuracy"]
    xt, yt = synthetic_features(200, seed=1)
    assert np.mean(clf.predict(xt) == yt) > 0.9
    assert np.mean(clf.predict_out_of_fold(x, y) == y) > 0.9


def test_uninformative_features_do_not_beat_baseline() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(0, 1, (120, len(FEATURES))), columns=FEATURES)
    y = rng.choice([1, 3], size=120, p=[0.15, 0.85])
    clf = SourceClassifier().fit(x, y)
    assert (clf.predict(x) == 3).mean() > 0.9


def test_crossmatch_prefers_flux_consistent_counterpart() -> None:
    truth = pd.DataFrame(
        {
            "ra_core": [-0.3, -0.3 + 0.2 / 3600, -0.2],
            "dec_core": [-29.6, -29.6, -29.6],
            "ra_cent": [-0.3, -0.3 + 0.2 / 3600, -0.2],
            "dec_cent": [-29.6, -29.6, -29.6],
            "flux": [1e-7, 2e-5, 1e-5],
        }
    )
    m = crossmatch(
        np.array([359.7, 359.9]),
        np.array([-29.6, -29.0]),
        np.array([2.2e-5, 1e-5]),
        truth,
        radius_arcsec=1.5,
    )
    assert list(m) == [1, -1]  # the bright one, not the nearer faint one; none far away


def test_core_fractions() -> None:
    t = pd.DataFrame({"class": [1, 1, 2, 2, 3], "core_frac": [0.01, 0.0, 0.7, 0.8, -0.0]})
    cf = core_fractions(t)
    assert cf[2] == 0.75 and cf[3] == 0.0 and cf[1] == 0.005
