"""The astronomy tools of the SDC reference environment, each doing real work as jovyan.

Montage regrids (against reproject), aplpy plots the SDC1 cutout with its source list, pyvo and
astroquery query a real TAP service (GAVO DaCHS, tests/services/dachs, serving the SDC1 truth
catalogue) on an internal network of this module, and ipyaladin's widget gets Aladin Lite from
its own files, not from a CDN. Everything but the TAP queries runs with no network at all; the
TAP clients reach the service and nothing else.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.containers.services import (
    service_image,
    service_network,
    service_parent,
    wait_for_http,
)

# Montage against reproject_exact (flux-conserving as mProject and mProjectPP are); prints JSON.
MONTAGE = r"""
import json, os, tempfile, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from reproject import reproject_exact
from scipy import ndimage
warnings.simplefilter("ignore")
from MontagePy.main import mGetHdr, mProject, mProjectPP, mProjectQL

DATA = os.environ["SDC1_DATA"]
os.chdir(tempfile.mkdtemp())
res = {}

# 1. The primary beam onto the cutout's own grid (the SDC1 pipeline's step): mGetHdr writes the
#    cutout's header as a template, mProjectQL (nearest) regrids the 4-D beam onto it.
#    Run first: MontagePy's Lanczos QL misbehaves after mProject in one process.
cutout, beam = f"{DATA}/B1_1000h_0.05tr.fits", f"{DATA}/PrimaryBeam_B1.fits"
res["getHdr"] = mGetHdr(cutout, "sky.hdr")["status"]
res["ql"] = mProjectQL(beam, "beam.fits", "sky.hdr", fullRegion=True, interp=0)["status"]
ql = fits.getdata("beam.fits")
sky = WCS(fits.getheader(cutout)).celestial
pb = fits.getdata(beam).squeeze()
exact = reproject_exact((pb, WCS(fits.getheader(beam)).celestial), sky, shape_out=ql.shape)[0]
res["beam_shape"] = list(ql.shape)
res["beam_max_rel_diff"] = float(np.nanmax(np.abs(ql / exact - 1)))
res["beam_valid"] = int(np.isfinite(ql).sum())

# 2. The cutout onto a 30-degree rotated TAN grid (a mosaic tile), flux-conserving.
img = fits.getdata(cutout)[0, 0].astype("f8")
fits.PrimaryHDU(img, header=sky.to_header()).writeto("sky2d.fits")
n, pix, angle = 200, abs(sky.wcs.cdelt[0]), np.deg2rad(30)
centre = sky.pixel_to_world((img.shape[1] - 1) / 2, (img.shape[0] - 1) / 2)
tile = WCS(naxis=2)
tile.wcs.ctype = ["RA---TAN", "DEC--TAN"]
tile.wcs.crval = [centre.ra.deg, centre.dec.deg]
tile.wcs.crpix = [(n + 1) / 2, (n + 1) / 2]
cos, sin = pix * np.cos(angle), pix * np.sin(angle)
tile.wcs.cd = [[-cos, sin], [sin, cos]]
tile.wcs.radesys, tile.wcs.equinox = sky.wcs.radesys, sky.wcs.equinox  # same frame
header = fits.Header({"SIMPLE": True, "BITPIX": -64, "NAXIS": 2, "NAXIS1": n, "NAXIS2": n})
header.update(tile.to_header())
header.totextfile("tile.hdr", endcard=True)
exact = reproject_exact((img, sky), tile, shape_out=(n, n))[0]
rms = float(np.nanstd(img))
for name, project in (("mProjectPP", mProjectPP), ("mProject", mProject)):
    res[name] = project("sky2d.fits", f"{name}.fits", "tile.hdr", fullRegion=True)["status"]
    out = fits.getdata(f"{name}.fits")
    both = np.isfinite(out) & np.isfinite(exact)
    inner = ndimage.binary_erosion(both, iterations=3)  # edge pixels are partly covered
    diff = np.abs(out - exact)[inner] / rms
    res[f"{name}_pixels"] = int(inner.sum())
    res[f"{name}_max_diff_rms"] = float(diff.max())
    res[f"{name}_median_diff_rms"] = float(np.median(diff))
    res[f"{name}_sum_ratio"] = float(out[inner].sum() / exact[inner].sum())
print("MONTAGE_JSON:" + json.dumps(res))
"""

# The cutout with the reference source list circled, and once without it; prints JSON.
APLPY = r"""
import json, os, tempfile, warnings
import numpy as np
import matplotlib.image as mpimg
warnings.simplefilter("ignore")
import aplpy
import pandas as pd

DATA = os.environ["SDC1_DATA"]
os.chdir(tempfile.mkdtemp())
cutout = f"{DATA}/B1_1000h_0.05tr.fits"
srl = pd.read_csv(f"{DATA}/B1_1000h_0.05tr.pybdsm.srl", sep=r"\s+", comment="#", header=None)
ra, dec = srl[2].to_numpy(), srl[4].to_numpy()  # columns RA, DEC of the source list
res = {"sources": len(ra)}

def figure(overlay):
    fig = aplpy.FITSFigure(cutout, slices=[0, 0], figsize=(6, 6))
    fig.show_colorscale(cmap="gray", stretch="arcsinh")
    fig.add_grid()
    fig.add_colorbar()
    if overlay:
        fig.show_markers(ra, dec, edgecolor="red", facecolor="none", marker="o", s=120,
                         linewidth=1.5)
    return fig

for overlay in (False, True):
    fig = figure(overlay)
    name = "overlay.png" if overlay else "plain.png"
    fig.save(name, dpi=100, adjust_bbox=False)
    png = mpimg.imread(name)[..., :3]
    red = (png[..., 0] > 0.8) & (png[..., 1] < 0.3) & (png[..., 2] < 0.3)
    colours = len(np.unique(png.reshape(-1, 3), axis=0))
    res[name] = {"shape": list(png.shape), "colours": colours, "std": float(png.std()),
                 "red": int(red.sum()), "bytes": os.path.getsize(name)}
    if overlay:
        # Where each source should be drawn, in PNG pixels (display y counts from the bottom).
        xy = fig.ax.get_transform("fk5").transform(np.column_stack([ra, dec]))
        rows, cols = np.nonzero(red)
        height = png.shape[0]
        near = [bool(np.any(np.hypot(cols - x, rows - (height - y)) < 12)) for x, y in xy]
        res["sources_circled"] = int(sum(near))
print("APLPY_JSON:" + json.dumps(res))
"""

# pyvo and astroquery against the service, and what the catalogue file says; prints JSON.
IVOA = r"""
import json, os, signal, warnings
import numpy as np
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
warnings.simplefilter("ignore")
import pyvo
from astroquery.utils.tap.core import TapPlus
from astroquery.vo_conesearch import conesearch

signal.alarm(240)  # a hung request fails the test instead of stalling it
TAP, SCS = "http://dachs:8080/tap", "http://dachs:8080/sdc1/q/cone/scs.xml"
CONE = "1=CONTAINS(POINT('ICRS', ra_core, dec_core), CIRCLE('ICRS', 359.66, -29.67, 0.01))"

# What the service must answer, from the catalogue file it was loaded from.
truth = np.loadtxt(os.path.join(os.environ["SDC1_DATA"], "truth_B1_0.3tr.cat"))
ids, ra, dec, flux = truth[:, 0].astype(int), truth[:, 1] % 360, truth[:, 2], truth[:, 5]
centre = SkyCoord(359.66 * u.deg, -29.67 * u.deg)
inside = centre.separation(SkyCoord(ra * u.deg, dec * u.deg)).deg < 0.01
classes, counts = np.unique(truth[:, 11].astype(int), return_counts=True)
brightest = np.argsort(-flux)[:5]
res = {"expected": {"rows": len(ids), "cone": sorted(ids[inside].tolist()),
                    "classes": dict(zip(map(str, classes.tolist()), counts.tolist())),
                    "top5": ids[brightest].tolist(),
                    "upload": [[1, int(ids[brightest[0]])], [2, int(ids[brightest[1]])]]}}

service = pyvo.dal.TAPService(TAP)
py = res["pyvo"] = {"tables": sorted(t.name for t in service.tables)}
py["rows"] = int(service.search("SELECT COUNT(*) AS n FROM sdc1.truth").to_table()["n"][0])
py["cone"] = sorted(int(i) for i in service.run_async(
    f"SELECT id FROM sdc1.truth WHERE {CONE}").to_table()["id"])
job = service.submit_job("SELECT sclass, COUNT(*) AS n FROM sdc1.truth GROUP BY sclass")
job.run()
job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=120)
py["job_phase"] = job.phase
py["classes"] = {str(r["sclass"]): int(r["n"]) for r in job.fetch_result().to_table()}
job.delete()
upload = Table({"myid": [1, 2], "ra": ra[brightest[:2]], "dec": dec[brightest[:2]]})
joined = service.search(
    "SELECT u.myid, t.id FROM TAP_UPLOAD.mine AS u JOIN sdc1.truth AS t ON 1=CONTAINS("
    "POINT('ICRS', t.ra_core, t.dec_core), CIRCLE('ICRS', u.ra, u.dec, 0.1/3600.))",
    uploads={"mine": upload}).to_table()
py["upload"] = sorted([int(a), int(b)] for a, b in zip(joined["myid"], joined["id"]))
scs = pyvo.dal.SCSService(SCS).search(pos=centre, radius=0.01 * u.deg).to_table()
py["scs"] = sorted(int(i) for i in scs["id"])

aq = res["astroquery"] = {}
tap = TapPlus(url=TAP, verbose=False)
top = tap.launch_job("SELECT TOP 5 id FROM sdc1.truth ORDER BY flux DESC").get_results()
aq["top5"] = [int(i) for i in top["id"]]
# DaCHS leaves a job PENDING until PHASE=RUN; TapPlus sends it when autorun=False.
job = tap.launch_job_async(f"SELECT id FROM sdc1.truth WHERE {CONE}", autorun=False)
aq["async_cone"] = sorted(int(i) for i in job.get_results()["id"])
# astroquery's cone search wants the base URL ending in "?" and (VERB=3) all columns, whose
# UCD1+ words it looks for.
found = conesearch.conesearch(centre, 0.01 * u.deg, catalog_db=SCS + "?", verb=3, verbose=False)
aq["conesearch"] = sorted(int(i) for i in found["id"])
print("IVOA_JSON:" + json.dumps(res))
"""

# The widget in a real kernel and the lab extensions it needs; prints JSON.
ALADIN = r"""
import json, re, subprocess
from jupyter_client.manager import start_new_kernel

res = {}
listing = subprocess.run(["jupyter", "labextension", "list"], capture_output=True, text=True)
res["labextensions"] = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)

CODE = '''
from astropy.table import Table
from ipyaladin import Aladin
aladin = Aladin(target="359.66 -29.67", fov=0.05, height=400)
display(aladin)
aladin.add_table(Table({"ra": [359.6799, 359.6538], "dec": [-29.6722, -29.6653],
                        "name": ["a", "b"]}), name="sources")
'''
km, kc = start_new_kernel(kernel_name="python3")
try:
    msg_id = kc.execute(CODE)
    seen = []
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        seen.append((kind, content))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

opens = [c for k, c in seen if k == "comm_open"
         and c["data"]["state"].get("_model_name") == "AnyModel"]
esm = opens[0]["data"]["state"]["_esm"] if opens else ""
res["errors"] = [c["ename"] + ": " + c["evalue"] for k, c in seen if k == "error"]
res["views"] = sum(1 for k, c in seen if k == "display_data"
                   and "application/vnd.jupyter.widget-view+json" in c["data"])
res["esm_bytes"] = len(esm)
remote = r"(?:from|import)\s*\(?\s*[\x22\x27](https?://[^\x22\x27]+)"
res["esm_remote_imports"] = re.findall(remote, esm)
res["esm_has_aladin"] = "WebGL2 not supported by your browser" in esm
print("ALADIN_JSON:" + json.dumps(res))
"""


def result(run_container, script: str, marker: str, **engine: Any) -> dict[str, Any]:
    rc, logs = run_container(["python", "-c", script], timeout=600, **engine)
    assert rc == 0, logs[-5000:]
    line = [ln for ln in logs.splitlines() if ln.startswith(marker)]
    assert line, logs[-5000:]
    return json.loads(line[-1].removeprefix(marker))


# -- Montage ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def montage(run_container) -> dict[str, Any]:
    return result(run_container, MONTAGE, "MONTAGE_JSON:", network_mode="none")


def test_montage_regrids_the_beam_like_reproject(montage) -> None:
    assert (montage["getHdr"], montage["ql"]) == ("0", "0"), montage
    assert montage["beam_shape"] == [160, 174]
    assert montage["beam_valid"] == 160 * 174
    # Nearest neighbour vs exact overlap: the beam changes by 0.1 % across a 0.08 deg pixel.
    assert montage["beam_max_rel_diff"] < 5e-3, montage


def test_montage_mosaic_tile_agrees_with_reproject_exact(montage) -> None:
    assert (montage["mProjectPP"], montage["mProject"]) == ("0", "0"), montage
    # Stated tolerances, in units of the cutout's rms, over pixels 3 px inside the coverage:
    # mProjectPP is the same exact overlap as reproject_exact (measured 1e-7 rms at most);
    # mProject computes overlaps on the sphere (measured: median 1e-5, max 0.14 rms).
    assert montage["mProjectPP_pixels"] > 20_000
    assert montage["mProjectPP_max_diff_rms"] < 1e-4, montage
    assert abs(montage["mProjectPP_sum_ratio"] - 1) < 1e-4, montage
    assert montage["mProject_median_diff_rms"] < 1e-3, montage
    assert montage["mProject_max_diff_rms"] < 0.5, montage
    assert abs(montage["mProject_sum_ratio"] - 1) < 1e-3, montage


# -- aplpy -----------------------------------------------------------------------------------


def test_aplpy_plots_the_cutout_with_its_sources(run_container) -> None:
    out = result(run_container, APLPY, "APLPY_JSON:", network_mode="none")
    plain, overlay = out["plain.png"], out["overlay.png"]
    assert plain["shape"] == overlay["shape"] == [600, 600, 3]
    assert plain["colours"] > 100 and plain["std"] > 0.1  # an image, not a blank canvas
    assert plain["red"] == 0 < overlay["red"]  # red comes from the overlay only
    assert out["sources"] == 44
    assert out["sources_circled"] == 44, out  # a red circle where each source is


# -- pyvo and astroquery against a real TAP service ------------------------------------------


@pytest.fixture(scope="module")
def tap_network(docker_client, image, sdc1_data):
    """An internal network with GAVO DaCHS answering as `dachs`."""
    parent = service_parent(docker_client, "dachs", image)
    image_id = service_image(
        docker_client, "dachs", parent, {"truth.cat": sdc1_data / "truth_B1_0.3tr.cat"}
    )
    with service_network(docker_client) as network:
        dachs = network.start(image_id, "dachs")
        wait_for_http(dachs, f"http://{dachs.ip}:8080/tap/capabilities")
        yield network.name


@pytest.fixture(scope="module")
def ivoa(run_container, tap_network) -> dict[str, Any]:
    return result(run_container, IVOA, "IVOA_JSON:", network=tap_network)


def test_pyvo_queries_the_tap_service(ivoa) -> None:
    expected, got = ivoa["expected"], ivoa["pyvo"]
    assert "sdc1.truth" in got["tables"]
    assert got["rows"] == expected["rows"] == 17731
    assert got["cone"] == expected["cone"] and len(got["cone"]) > 10  # async ADQL geometry
    assert got["job_phase"] == "COMPLETED"
    assert got["classes"] == expected["classes"]  # a UWS job: submit, run, wait, fetch
    assert got["upload"] == expected["upload"]  # TAP_UPLOAD cross-match
    assert got["scs"] == expected["cone"]  # simple cone search


def test_astroquery_reads_the_local_service(ivoa) -> None:
    expected, got = ivoa["expected"], ivoa["astroquery"]
    assert got["top5"] == expected["top5"]  # TapPlus, synchronous
    assert got["async_cone"] == expected["cone"]  # TapPlus, asynchronous
    assert got["conesearch"] == expected["cone"]  # astroquery.vo_conesearch


# -- ipyaladin -------------------------------------------------------------------------------


def test_ipyaladin_widget_and_extension_work_offline(run_container) -> None:
    out = result(run_container, ALADIN, "ALADIN_JSON:", network_mode="none")
    extensions = out["labextensions"]
    assert re.search(r"^\s*anywidget v\S+ enabled OK", extensions, re.MULTILINE), extensions
    assert re.search(
        r"^\s*@jupyter-widgets/jupyterlab-manager v\S+ enabled OK", extensions, re.MULTILINE
    ), extensions
    assert out["errors"] == [] and out["views"] == 1, out
    # What the browser imports: Aladin Lite itself (2.6 MB), no module from a CDN.
    assert out["esm_bytes"] > 2_000_000 and out["esm_has_aladin"], out
    assert out["esm_remote_imports"] == [], out
