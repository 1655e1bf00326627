from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sdc1_pipeline.catalogue import (
    SizePrior,
    estimate_sizes,
    read_sdc1_catalogue,
    sdc1_pa,
    seed_catalogue,
    to_submission,
    validate_submission,
    write_sdc1_catalogue,
)
from sdc1_pipeline.constants import CAT_COLUMNS, TRAIN_AREAS, wrap_ra
from sdc1_pipeline.finder import read_bdsf_catalogue


def fake_srl(n: int = 3) -> pd.DataFrame:
    d = 1 / 3600
    return pd.DataFrame(
        {
            "Source_id": np.arange(n),
            "RA": [359.7, 0.1, 359.68][:n],
            "DEC": [-29.6] * n,
            "RA_max": [359.7, 0.1, 359.68][:n],
            "DEC_max": [-29.6] * n,
            "Total_flux": [1e-5, 2e-4, 5e-6][:n],
            "E_Total_flux": [1e-6] * n,
            "Peak_flux": [8e-6, 1e-4, 4e-6][:n],
            "Isl_rms": [4e-7] * n,
            "Maj": [1.7 * d, 3.0 * d, 1.5 * d][:n],
            "E_Maj": [0.2 * d, 0.05 * d, 0.3 * d][:n],
            "Min": [1.6 * d, 2.0 * d, 1.5 * d][:n],
            "E_Min": [0.2 * d, 0.05 * d, 0.3 * d][:n],
            "PA": [10.0, 120.0, 0.0][:n],
            "DC_Maj": [0.8 * d, 2.6 * d, 0.0][:n],
            "DC_Min": [0.5 * d, 1.3 * d, 0.0][:n],
            "DC_PA": [10.0, 120.0, 0.0][:n],
            "S_Code": ["S", "M", "S"][:n],
        }
    )


def fake_truth(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lf = rng.uniform(-6, -3.5, n)
    b_maj = 10 ** (0.5 * (lf + 5) + rng.normal(0, 0.2, n))  # flux-size relation
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "ra_core": -0.3,
            "dec_core": -29.6,
            "ra_cent": -0.3,
            "dec_cent": -29.6,
            "flux": 10**lf,
            "core_frac": 0.0,
            "b_maj": b_maj,
            "b_min": b_maj * 0.5,
            "pa": 0.0,
            "size": 2,
            "class": 3,
        }
    )


def test_pa_convention() -> None:
    # the SDC1 truth measures PA from east towards north: 90 - PA(N->E), folded to [-90, 90)
    assert np.allclose(
        sdc1_pa(np.array([0.0, 90.0, 111.5, 17.0, 180.0])), [-90.0, 0.0, -21.5, 73.0, -90.0]
    )


def test_wrap_ra() -> None:
    assert np.allclose(wrap_ra(np.array([359.5, 0.5, 180.5])), [-0.5, 0.5, -179.5])


def test_seed_catalogue_columns_and_units() -> None:
    cat = seed_catalogue(fake_srl())
    assert list(cat.columns) == CAT_COLUMNS
    assert cat["ra_core"].between(-180, 180).all()
    assert cat.loc[0, "b_maj"] == pytest.approx(1.7)
    assert (cat["class"] == 3).all() and (cat["size"] == 2).all()


def test_submission_roundtrip(tmp_path: Path) -> None:
    cat = to_submission(fake_srl(), classes=np.array([3, 1, 2]))
    validate_submission(cat)
    assert cat.loc[2, "core_frac"] == pytest.approx(0.75)  # FS-AGN are core dominated
    assert cat.loc[0, "b_maj"] == pytest.approx(0.8)  # deconvolved, no prior
    assert cat.loc[0, "pa"] == pytest.approx(80.0)
    path = write_sdc1_catalogue(cat, tmp_path / "cat.txt")
    assert path.read_text().splitlines()[0].split() == CAT_COLUMNS
    back = read_sdc1_catalogue(path)
    pd.testing.assert_frame_equal(back, cat, check_dtype=False, atol=1e-8)


def test_validate_rejects_nan_and_bad_columns() -> None:
    cat = seed_catalogue(fake_srl())
    bad = cat.copy()
    bad.loc[0, "flux"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        validate_submission(bad)
    with pytest.raises(ValueError, match="columns"):
        validate_submission(cat.drop(columns="pa"))


def test_area_filter_keeps_training_area_sources() -> None:
    cat = to_submission(fake_srl(), area=TRAIN_AREAS[560])
    assert list(cat["id"]) == [0, 2]  # RA 0.1 deg lies east of the training area


def test_size_prior_follows_flux_size_relation() -> None:
    prior = SizePrior.fit(fake_truth())
    lmaj, lmin, smaj, _ = prior.at(np.array([1e-6, 1e-5, 1e-4]))
    assert np.all(np.diff(lmaj) > 0)
    assert np.allclose(lmaj, [-0.5, 0.0, 0.5], atol=0.1)
    assert np.allclose(lmin, lmaj + np.log10(0.5), atol=0.05)
    assert np.allclose(smaj, 0.2, atol=0.05)


def test_size_prior_needs_data() -> None:
    with pytest.raises(ValueError):
        SizePrior.fit(fake_truth(5))


def test_shrinkage_keeps_resolved_and_shrinks_noisy_sizes() -> None:
    prior = SizePrior.fit(fake_truth())
    srl = fake_srl()
    b_maj, b_min = estimate_sizes(srl, prior)
    # well-resolved bright source: measurement dominates
    assert b_maj[1] == pytest.approx(2.6, rel=0.1)
    # unresolved source (DC = 0): the prior at its flux
    assert b_maj[2] == pytest.approx(10 ** prior.at(np.array([5e-6]))[0][0])
    # noisy faint source: between measurement and prior
    p0 = 10 ** prior.at(np.array([1e-5]))[0][0]
    assert min(0.8, p0) < b_maj[0] < max(0.8, p0)
    assert np.all(b_min <= b_maj)


def test_reads_reference_pybdsf_lists(data_dir: Path) -> None:
    srl = read_bdsf_catalogue(data_dir / "B1_1000h_0.05tr.pybdsm.srl")
    gaul = read_bdsf_catalogue(data_dir / "B1_1000h_0.05tr.pybdsm.gaul")
    assert len(srl) == 44 and len(gaul) >= 44
    assert {"RA_max", "DC_Maj", "S_Code"} <= set(srl.columns)
    assert set(srl["S_Code"]) <= {"S", "M", "C"}
