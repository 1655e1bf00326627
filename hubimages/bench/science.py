"""Science numbers: PyBDSF on the SDC1 cutout (image vs host venv), the sdc1 pipeline's score."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from docker import DockerClient

from hubimages.bench import BENCH_LABEL
from hubimages.core.cache import CacheLayout
from hubimages.core.data import CUTOUT, require_sdc1_data
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.index import PackageIndex
from hubimages.deps.lockfile import load_lock
from hubimages.deps.wheelhouse import fetch
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix

# Times PyBDSF alone on the cutout with the SDC1 settings; same script on host and in image.
PYBDSF_SCRIPT = """
import sys, tempfile, time, shutil, os, warnings
warnings.simplefilter("ignore")
import bdsf
from astropy.io import fits
src = sys.argv[1]
work = tempfile.mkdtemp()
image = os.path.join(work, "cutout.fits")
shutil.copy(src, image)
h = fits.getheader(image)
times = []
for _ in range(RUNS):
    t = time.perf_counter()
    img = bdsf.process_image(image, thresh="hard", thresh_isl=4.0, thresh_pix=5.0,
                             rms_map=True, beam=(h["BMAJ"], h["BMIN"], 0.0), quiet=True,
                             outdir=work)
    times.append(time.perf_counter() - t)
print("PYBDSF", img.nsrc, min(times))
"""
PYBDSF_RUNS = 3


def pybdsf_timings(client: DockerClient, matrix: Matrix, cache: CacheLayout) -> dict[str, object]:
    """PyBDSF on the cutout inside the pybdsf image and in a host venv of the same lock."""
    data = require_sdc1_data(matrix.root)
    script = PYBDSF_SCRIPT.replace("RUNS", str(PYBDSF_RUNS))
    out = client.containers.run(
        matrix.local_ref("pybdsf"),
        ["python", "-c", script, f"/data/{CUTOUT}"],
        entrypoint=[],
        remove=True,
        network_mode="none",
        volumes={str(data): {"bind": "/data", "mode": "ro"}},
        labels=BENCH_LABEL,
    )
    in_image = _parse_pybdsf(bytes(out).decode())
    numbers: dict[str, object] = {
        "pybdsf_sources": in_image[0],
        "pybdsf_image_s": round(in_image[1], 2),
    }
    host_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if host_python != matrix.settings.python:  # the lock's wheels are for another Python
        numbers["pybdsf_host_venv_s"] = f"n/a (the host's Python is {host_python})"
        return numbers
    python = host_venv(matrix, cache, "pybdsf")
    host = subprocess.run(
        [str(python), "-c", script, str(data / CUTOUT)], capture_output=True, text=True, check=True
    )
    numbers["pybdsf_host_venv_s"] = round(_parse_pybdsf(host.stdout)[1], 2)
    return numbers


def _parse_pybdsf(output: str) -> tuple[int, float]:
    line = next((x for x in output.splitlines() if x.startswith("PYBDSF ")), None)
    if line is None:
        raise HubImagesError("the PyBDSF timing script printed no result")
    _, nsrc, seconds = line.split()
    return int(nsrc), float(seconds)


def host_venv(matrix: Matrix, cache: CacheLayout, name: str) -> Path:
    """A venv with exactly the image's locked wheels (from the build cache, no index)."""
    venv = cache.bench_venv(name)
    lock = load_lock(matrix, name)
    stamp = venv / "lock.sha256"
    if stamp.is_file() and stamp.read_text() == lock.sha256:
        return venv / "bin" / "python"
    index = PackageIndex(matrix.settings.index_url)
    catalog = LocalWheelCatalog.of_images(matrix.images_folder, index, cache)
    # Wheels built on the host (local-wheels.yaml) live in a folder of their own.
    wheels = fetch(lock, matrix.settings, cache.wheels, index, catalog)
    folders = sorted({str(p.parent) for p in wheels})
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            *(f"--find-links={f}" for f in folders),
            "--require-hashes",
            "-r",
            str(lock.path),
        ],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
    )
    stamp.write_text(lock.sha256)
    return venv / "bin" / "python"


def sdc1_score(client: DockerClient, matrix: Matrix) -> float:
    """The sdc1 pipeline's score on the shared cutout, run in the sdc1 image as jovyan."""
    data = require_sdc1_data(matrix.root)
    out = client.containers.run(
        matrix.local_ref("sdc1"),
        [
            "bash",
            "-c",
            'cd "$(mktemp -d)" && sdc1-pipeline run --freq 560 --out cat.txt '
            f"--image /data/{CUTOUT} --pb /data/PrimaryBeam_B1.fits "
            "--truth /data/truth_B1_0.3tr.cat",
        ],
        remove=True,
        network_mode="none",
        volumes={str(data): {"bind": "/data", "mode": "ro"}},
        labels=BENCH_LABEL,
        stderr=True,
    )
    match = re.search(r"SDC1 score: ([0-9.]+)", bytes(out).decode())
    if match is None:
        raise HubImagesError("sdc1-pipeline printed no score")
    return float(match.group(1))
