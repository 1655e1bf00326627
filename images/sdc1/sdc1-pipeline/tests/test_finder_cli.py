"""PyBDSF wrapper, end-to-end pipeline and command line (PyBDSF runs take a few seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from conftest import Field

from sdc1_pipeline.catalogue import read_sdc1_catalogue, validate_submission
from sdc1_pipeline.cli import main
from sdc1_pipeline.finder import read_bdsf_catalogue, run_pybdsf
from sdc1_pipeline.pipeline import run_pipeline
from sdc1_pipeline.preprocess import preprocess


@pytest.fixture(scope="module")
def found(field: Field, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("bdsf")
    pre = preprocess(field.image, out / "pbcor.fits", pb=field.pb, freq=560)
    return run_pybdsf(pre, out, formats=("fits", "ascii", "csv"))


def test_pybdsf_recovers_injected_sources(found, field: Field) -> None:  # type: ignore[no-untyped-def]
    t = field.truth_df
    assert len(found.srl) == len(t)
    src = SkyCoord(found.srl["RA"].to_numpy() * u.deg, found.srl["DEC"].to_numpy() * u.deg)
    tru = SkyCoord(t["ra_cent"].to_numpy() * u.deg, t["dec_cent"].to_numpy() * u.deg)
    idx, sep, _ = tru.match_to_catalog_sky(src)
    assert sep.arcsec.max() < 0.3  # a fifth of the 1.5" beam
    ratio = found.srl["Total_flux"].to_numpy()[idx] / t["flux"].to_numpy()
    assert np.median(np.abs(ratio - 1)) < 0.1  # primary-beam-corrected fluxes


def test_catalogue_formats_agree(found) -> None:  # type: ignore[no-untyped-def]
    tables = {k: read_bdsf_catalogue(p) for k, p in found.catalogues.items() if k.startswith("srl")}
    assert set(tables) == {"srl.fits", "srl.ascii", "srl.csv"}
    for df in tables.values():
        assert np.allclose(df["Total_flux"], tables["srl.fits"]["Total_flux"], rtol=1e-6)
    assert not list(Path(found.catalogues["srl.fits"]).parent.glob("synthetic*.log"))


def test_pipeline_on_synthetic_field(field: Field, tmp_path: Path) -> None:
    res = run_pipeline(field.image, tmp_path, pb=field.pb, truth=field.truth, freq=560)
    validate_submission(res.catalogue)
    assert res.score is not None and res.score.n_match == len(field.truth_df)
    assert res.score.components["pa"] > 0.5
    assert res.score.components["flux"] > 0.8
    assert res.score.value > 0.7 * len(field.truth_df)
    assert not list(field.image.parent.glob("*.log"))  # nothing written next to the input


def test_cli_run_writes_catalogue_and_prints_score(
    field: Field, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat.txt"
    rc = main(
        [
            "run",
            "--image",
            str(field.image),
            "--pb",
            str(field.pb),
            "--truth",
            str(field.truth),
            "--freq",
            "560",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    validate_submission(read_sdc1_catalogue(out))
    assert "SDC1 score:" in capsys.readouterr().out


def test_cli_subcommands(field: Field, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pre = tmp_path / "pre.fits"
    assert (
        main(["preprocess", "--image", str(field.image), "--pb", str(field.pb), "--out", str(pre)])
        == 0
    )
    assert main(["find", "--image", str(pre), "--outdir", str(tmp_path / "f")]) == 0
    srl = tmp_path / "f" / "pre.pybdsf.srl.fits"
    cat = tmp_path / "cat.txt"
    assert (
        main(["catalogue", "--srl", str(srl), "--out", str(cat), "--truth", str(field.truth)]) == 0
    )
    assert main(["score", "--cat", str(cat), "--truth", str(field.truth)]) == 0
    assert capsys.readouterr().out.count("SDC1 score:") == 2


def test_real_cutout_beats_seed(data_dir: Path, tmp_path: Path) -> None:
    from sdc1_pipeline.pipeline import run_seed

    truth = read_sdc1_catalogue(data_dir / "truth_B1_0.3tr.cat")
    res = run_pipeline(
        data_dir / "B1_1000h_0.05tr.fits",
        tmp_path,
        pb=data_dir / "PrimaryBeam_B1.fits",
        truth=truth,
        freq=560,
    )
    _, seed = run_seed(data_dir / "B1_1000h_0.05tr.fits", tmp_path, truth, 560)
    assert len(res.srl) == 44
    assert seed.value == pytest.approx(28.80, abs=0.01)
    assert res.score is not None and res.score.value > seed.value + 5
    assert res.score.n_false == 0
