from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from conftest import Field, image_header, write_fits

from sdc1_pipeline.preprocess import (
    beam_on_grid,
    crop,
    pb_correct,
    preprocess,
    read_image,
    train_area_box,
)


def test_cutout_inside_training_area_is_not_cropped(field: Field) -> None:
    data, header = read_image(field.image)
    ys, xs = train_area_box(header, data.shape, 560)
    assert (ys.start, ys.stop, xs.start, xs.stop) == (0, data.shape[0], 0, data.shape[1])


def test_crop_to_intersection_when_image_straddles_area_edge() -> None:
    # centred on the RA = 0 edge of the 560 MHz training area: the east half is cropped away
    header = image_header(200, 100, centre=(0.0, -29.67))
    data = np.zeros((100, 200), dtype=np.float32)
    box = train_area_box(header, data.shape, 560)
    out, h2 = crop(data, header, box)
    assert out.shape[0] == 100
    assert 95 <= out.shape[1] <= 106
    assert h2["CRPIX1"] == header["CRPIX1"] - box[1].start
    # the kept pixels are those west of RA = 0 (x grows to the west: CDELT1 < 0)
    assert box[1].start > 90


def test_no_overlap_raises() -> None:
    header = image_header(50, 50, centre=(10.0, -35.0))
    with pytest.raises(ValueError, match="does not overlap"):
        train_area_box(header, (50, 50), 560)


def test_pb_correct_divides_and_blanks() -> None:
    data = np.ones((4, 4), dtype=np.float32)
    beam = np.full((4, 4), 0.5, dtype=np.float32)
    beam[0, 0] = 0.05
    beam[0, 1] = np.nan
    out = pb_correct(data, beam, pb_min=0.1)
    assert np.isnan(out[0, 0]) and np.isnan(out[0, 1])
    assert np.allclose(out[1:], 2.0)


def test_beam_reprojected_onto_image_grid(field: Field) -> None:
    data, header = read_image(field.image)
    beam = beam_on_grid(field.pb, header, data.shape)
    assert beam.shape == data.shape
    assert np.allclose(beam, field.pb_value, atol=1e-5)


def test_preprocess_writes_4d_corrected_image(field: Field, tmp_path: Path) -> None:
    out = preprocess(field.image, tmp_path / "pbcor.fits", pb=field.pb, freq=560)
    raw = fits.getdata(field.image)
    cor = fits.getdata(out)
    assert cor.shape == raw.shape  # FREQ and STOKES axes kept for PyBDSF
    assert np.allclose(cor, raw / field.pb_value, rtol=1e-4)
    assert fits.getheader(out)["CRVAL3"] == pytest.approx(5.6e8)


def test_preprocess_on_real_cutout(data_dir: Path, tmp_path: Path) -> None:
    out = preprocess(
        data_dir / "B1_1000h_0.05tr.fits",
        tmp_path / "p.fits",
        pb=data_dir / "PrimaryBeam_B1.fits",
        freq=560,
    )
    raw = fits.getdata(data_dir / "B1_1000h_0.05tr.fits").squeeze()
    ratio = np.nanmedian(raw / fits.getdata(out).squeeze())
    assert raw.shape == (160, 174)  # cutout lies in the training area: nothing cropped
    assert 0.85 < ratio < 0.95  # primary beam ~0.9 there, 0.4 deg from the centre


def test_write_fits_helper_roundtrip(tmp_path: Path) -> None:
    h = image_header(8, 6)
    p = write_fits(tmp_path / "x.fits", np.ones((6, 8)), h)
    data, header = read_image(p)
    assert data.shape == (6, 8) and "BLANK" not in header
