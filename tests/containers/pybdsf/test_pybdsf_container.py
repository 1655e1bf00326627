"""PyBDSF image: SDC1 source finding on the real cutout, catalogue formats, synthetic recovery.

The checks run inside one container (as jovyan, data read-only at /data/sdc1); the script
prints a JSON summary that the tests below assert on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

SCRIPT = r"""
import json, os, tempfile, time, warnings
import numpy as np
import pandas as pd
import bdsf
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from astropy.coordinates import SkyCoord
import astropy.units as u
warnings.simplefilter("ignore")

DATA = os.environ.get("SDC1_DATA", "/data/sdc1")
OUT = tempfile.mkdtemp(prefix="pybdsf-test-")
res = {}

def sdc1_opts(path):
    h = fits.getheader(path)
    return dict(thresh="hard", thresh_isl=4.0, thresh_pix=5.0, rms_map=True, quiet=True,
                beam=(h["BMAJ"], h["BMIN"], h.get("BPA", 0.0)), outdir=OUT)

def read_ascii(path):
    names = None
    for line in open(path):
        if line.strip() and not line.startswith("#"):
            break
        f = line.lstrip("#").replace(",", " ").split()
        if f and f[0] in ("Source_id", "Gaus_id"):
            names = f
    sep = "," if path.endswith(".csv") else r"\s+"
    df = pd.read_csv(path, sep=sep, comment="#", header=None, skipinitialspace=True)
    df = df.iloc[:, :len(names)]
    df.columns = names
    return df

# 1. the real SDC1 cutout with the SDC1 settings
image = os.path.join(DATA, "B1_1000h_0.05tr.fits")
t0 = time.perf_counter()
img = bdsf.process_image(image, **sdc1_opts(image))
res["runtime_s"] = time.perf_counter() - t0
res["nsrc"] = int(img.nsrc)
paths = {}
for fmt, ext in (("fits", ".fits"), ("ascii", ".txt"), ("csv", ".csv")):
    for kind in ("srl", "gaul"):
        p = os.path.join(OUT, f"cutout.{kind}{ext}")
        img.write_catalog(outfile=p, format=fmt, catalog_type=kind, clobber=True)
        paths[f"{kind}.{fmt}"] = p
tables = {
    "fits": Table.read(paths["srl.fits"]).to_pandas(),
    "ascii": read_ascii(paths["srl.ascii"]),
    "csv": read_ascii(paths["srl.csv"]),
}
res["rows"] = {k: len(v) for k, v in tables.items()}
res["gaul_rows"] = len(Table.read(paths["gaul.fits"]))
ref = read_ascii(os.path.join(DATA, "B1_1000h_0.05tr.pybdsm.srl"))
res["nref"] = len(ref)
ours = tables["fits"]
c_ref = SkyCoord(ref["RA"].values * u.deg, ref["DEC"].values * u.deg)
c_our = SkyCoord(ours["RA"].values * u.deg, ours["DEC"].values * u.deg)
idx, sep, _ = c_ref.match_to_catalog_sky(c_our)
res["max_sep_arcsec"] = float(sep.arcsec.max())
res["unique_matches"] = int(len(set(idx.tolist())))
res["max_flux_rel_diff"] = float(np.max(np.abs(
    ours["Total_flux"].values[idx] / ref["Total_flux"].values - 1)))
res["format_flux_agree"] = bool(all(
    np.allclose(t["Total_flux"].values, ours["Total_flux"].values, rtol=1e-6)
    for t in tables.values()))
res["data_dir_untouched"] = sorted(os.listdir(DATA))

# 2. synthetic image with injected Gaussian sources
rng = np.random.default_rng(42)
n, pix, beam = 200, 1.67847e-4, 4.1666667e-4
h = fits.Header()
h.update({"NAXIS": 4, "NAXIS1": n, "NAXIS2": n, "NAXIS3": 1, "NAXIS4": 1, "BUNIT": "JY/BEAM",
          "CTYPE1": "RA---SIN", "CRVAL1": 359.7, "CDELT1": -pix, "CRPIX1": n / 2,
          "CTYPE2": "DEC--SIN", "CRVAL2": -29.7, "CDELT2": pix, "CRPIX2": n / 2,
          "CTYPE3": "FREQ", "CRVAL3": 5.6e8, "CDELT3": 1e8, "CRPIX3": 1,
          "CTYPE4": "STOKES", "CRVAL4": 1, "CDELT4": 1, "CRPIX4": 1,
          "BMAJ": beam, "BMIN": beam, "EQUINOX": 2000.0})
wcs = WCS(h, naxis=2)
noise = 1e-6
yy, xx = np.mgrid[0:n, 0:n]
data = rng.normal(0, noise, (n, n))
s = beam / pix / np.sqrt(8 * np.log(2))
truth = []
for x0 in np.linspace(25, n - 25, 4):
    for y0 in np.linspace(25, n - 25, 4):
        x, y = x0 + rng.uniform(-3, 3), y0 + rng.uniform(-3, 3)
        peak = 10 ** rng.uniform(np.log10(15 * noise), np.log10(200 * noise))
        data += peak * np.exp(-0.5 * ((xx - x) ** 2 + (yy - y) ** 2) / s**2)
        ra, dec = wcs.all_pix2world(x, y, 0)
        truth.append((float(ra), float(dec), peak))
syn = os.path.join(OUT, "synthetic.fits")
fits.PrimaryHDU(data[None, None].astype(np.float32), header=h).writeto(syn)
simg = bdsf.process_image(syn, **sdc1_opts(syn))
sp = os.path.join(OUT, "synthetic.srl.fits")
simg.write_catalog(outfile=sp, format="fits", catalog_type="srl", clobber=True)
st = Table.read(sp).to_pandas()
t = np.array(truth)
c_t = SkyCoord(t[:, 0] * u.deg, t[:, 1] * u.deg)
c_s = SkyCoord(st["RA"].values * u.deg, st["DEC"].values * u.deg)
i2, sep2, _ = c_t.match_to_catalog_sky(c_s)
res["syn_injected"] = len(t)
res["syn_found"] = len(st)
res["syn_max_sep_arcsec"] = float(sep2.arcsec.max())
# point sources: total flux (Jy) equals the injected peak (Jy/beam)
res["syn_flux_ratio_median"] = float(np.median(st["Total_flux"].values[i2] / t[:, 2]))
res["syn_flux_ratio_worst"] = float(np.max(np.abs(st["Total_flux"].values[i2] / t[:, 2] - 1)))
print("RESULT_JSON:" + json.dumps(res))
"""

BEAM_ARCSEC = 1.5


@pytest.fixture(scope="module")
def result(run_container) -> dict[str, Any]:
    rc, logs = run_container(["python", "-c", SCRIPT], timeout=900)
    assert rc == 0, logs[-5000:]
    line = [ln for ln in logs.splitlines() if ln.startswith("RESULT_JSON:")]
    assert line, logs[-5000:]
    return json.loads(line[-1].removeprefix("RESULT_JSON:"))


def test_real_cutout_matches_reference_list(result: dict[str, Any]) -> None:
    assert result["nref"] == 44
    assert result["nsrc"] == 44
    assert result["unique_matches"] == 44
    assert result["max_sep_arcsec"] < 0.2 * BEAM_ARCSEC
    assert result["max_flux_rel_diff"] < 0.05


def test_runtime_is_reasonable(result: dict[str, Any]) -> None:
    assert result["runtime_s"] < 120  # ~2-4 s on 2 cores


def test_catalogues_in_fits_ascii_csv(result: dict[str, Any]) -> None:
    assert result["rows"] == {"fits": 44, "ascii": 44, "csv": 44}
    assert result["gaul_rows"] >= 44
    assert result["format_flux_agree"]


def test_data_folder_not_written(result: dict[str, Any]) -> None:
    assert not [f for f in result["data_dir_untouched"] if f.endswith(".log")]


def test_synthetic_sources_recovered(result: dict[str, Any]) -> None:
    assert result["syn_found"] == result["syn_injected"] == 16
    assert result["syn_max_sep_arcsec"] < 0.2 * BEAM_ARCSEC
    assert abs(result["syn_flux_ratio_median"] - 1) < 0.05
    assert result["syn_flux_ratio_worst"] < 0.25
