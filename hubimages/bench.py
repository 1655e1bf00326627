"""Benchmarks that print numbers: build times, no-op rebuild, sizes, server start-up."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from docker import DockerClient

from hubimages.builder import Builder, build_images, cache_dir, image_ref
from hubimages.engine import connect
from hubimages.matrix import Matrix

log = logging.getLogger(__name__)

BENCH_NAMESPACE = "hubimages-bench"
STARTUP_RUNS = 5
STARTUP_TIMEOUT_S = 60
TOKEN = "benchmark-token"  # noqa: S105 - a throwaway token for a local container


def cold_base_build(client: DockerClient, matrix: Matrix) -> tuple[float, int]:
    """Build base from nothing: a fresh cache (rootfs, wheels) and a namespace of its own."""
    settings = dataclasses.replace(matrix.settings, namespace=BENCH_NAMESPACE)
    bench_matrix = dataclasses.replace(matrix, settings=settings)
    with tempfile.TemporaryDirectory(prefix="hubimages-bench-") as cache:
        builder = Builder(client, bench_matrix, force=True)
        builder.cache = Path(cache)
        started = time.monotonic()
        try:
            [result] = builder.run(["base"])
            seconds = time.monotonic() - started
        finally:
            _remove_namespace(client, BENCH_NAMESPACE)
    if result.status != "built":
        raise SystemExit(f"cold build failed: {result.reason}")
    return seconds, result.size


def _remove_namespace(client: DockerClient, namespace: str) -> None:
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{namespace}/"):
                client.images.remove(tag, force=True)


def noop_rebuild_seconds(matrix: Matrix) -> float:
    """Wall time of a whole `invoke build` when nothing changed, process start included."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "invoke", "build"], cwd=matrix.root, check=True,
                   capture_output=True)
    return time.monotonic() - started


def startup_seconds(client: DockerClient, ref: str) -> list[float]:
    """Seconds from `docker run` to /api answering 200 with the token, several runs."""
    times = []
    for _ in range(STARTUP_RUNS):
        started = time.monotonic()
        container = client.containers.run(
            ref, detach=True, environment={"JUPYTER_TOKEN": TOKEN},
            labels={"hubimages.bench": "1"})
        try:
            container.reload()
            address = container.attrs["NetworkSettings"]["IPAddress"]
            url = f"http://{address}:8888/api?token={TOKEN}"
            times.append(_wait_for(url, started))
        finally:
            container.remove(force=True)
    return times


def _wait_for(url: str, started: float) -> float:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() - started < STARTUP_TIMEOUT_S:
        try:
            with opener.open(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {STARTUP_TIMEOUT_S}s")


def run_benchmark(matrix: Matrix, cold: bool = True) -> dict[str, object]:
    client = connect()
    numbers: dict[str, object] = {}
    if cold:
        log.info("cold build of base (empty cache, separate namespace)")
        seconds, size = cold_base_build(client, matrix)
        numbers["base_cold_build_s"] = round(seconds, 1)
        numbers["base_cold_size_mb"] = round(size / 1e6)
    log.info("making sure every image is built")
    results = build_images(matrix, [], client=client)
    if results is None:
        raise SystemExit("the build failed; no further numbers")
    numbers["noop_rebuild_s"] = round(noop_rebuild_seconds(matrix), 2)
    for result in results:
        numbers[f"{result.name}_size_mb"] = round(result.size / 1e6)
    built = _recorded_build_times(matrix)
    for result in results:
        if result.name in built:
            numbers[f"{result.name}_last_build_s"] = built[result.name]["seconds"]
    times = startup_seconds(client, image_ref(matrix, "base"))
    numbers["base_start_to_api_s_median"] = round(statistics.median(times), 2)
    numbers["base_start_to_api_s_max"] = round(max(times), 2)
    if "pybdsf" in matrix.images:
        numbers.update(pybdsf_timings(client, matrix))
    if "sdc1" in matrix.images:
        numbers["sdc1_score"] = sdc1_score(client, matrix)
    numbers.update(push_timings(client, matrix))
    _print(numbers)
    out = cache_dir(matrix) / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(numbers, indent=2))
    return numbers


def push_timings(client: DockerClient, matrix: Matrix) -> dict[str, object]:
    """Pushes to an empty local registry: each image in build order (its parent's layers are
    already there, as in a release), then the same again (what a rerun costs)."""
    from hubimages.localregistry import LocalRegistry
    from hubimages.plan import build_order
    from hubimages.publish import push_tag
    from hubimages.registry import RegistryClient, RegistryTarget

    numbers: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="hubimages-bench-registry-") as root:
        registry = LocalRegistry(Path(root))
        registry.start()
        target = RegistryTarget(registry.host, BENCH_NAMESPACE)
        try:
            for name in build_order(matrix):
                image_id = client.images.get(image_ref(matrix, name)).id
                repository = target.repository(name)
                started = time.monotonic()
                push_tag(client, image_id, repository, "bench", None)
                numbers[f"{name}_push_s"] = round(time.monotonic() - started, 1)
                started = time.monotonic()
                push_tag(client, image_id, repository, "bench-again", None)
                numbers[f"{name}_repush_s"] = round(time.monotonic() - started, 2)
                remote = RegistryClient(target).manifest(name, "bench")
                numbers[f"{name}_compressed_mb"] = round((remote.layers_size if remote else 0)
                                                         / 1e6)
        finally:
            registry.stop()
            _remove_repository_tags(client, registry.host)
    return numbers


def _remove_repository_tags(client: DockerClient, host: str) -> None:
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{host}/"):
                client.images.remove(tag)


def _recorded_build_times(matrix: Matrix) -> dict[str, dict]:
    path = cache_dir(matrix) / "build-times.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def sdc1_data_dir(matrix: Matrix) -> Path:
    """The shared SDC1 sample data: $SDC1_DATA, or shared/data/sdc1 beside the checkout."""
    env = os.environ.get("SDC1_DATA")
    path = Path(env) if env else matrix.root.parent / "shared" / "data" / "sdc1"
    if not (path / "B1_1000h_0.05tr.fits").is_file():
        raise SystemExit(f"SDC1 sample data not found in {path}: set SDC1_DATA")
    return path.resolve()


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


def pybdsf_timings(client: DockerClient, matrix: Matrix) -> dict[str, object]:
    """PyBDSF on the cutout inside the pybdsf image and in a host venv of the same lock."""
    data = sdc1_data_dir(matrix)
    script = PYBDSF_SCRIPT.replace("RUNS", str(PYBDSF_RUNS))
    out = client.containers.run(
        image_ref(matrix, "pybdsf"), ["python", "-c", script, "/data/B1_1000h_0.05tr.fits"],
        entrypoint=[], remove=True, network_mode="none",
        volumes={str(data): {"bind": "/data", "mode": "ro"}}, labels={"hubimages.bench": "1"})
    in_image = _parse_pybdsf(out.decode())
    python = _host_venv(matrix, "pybdsf")
    host = subprocess.run([str(python), "-c", script, str(data / "B1_1000h_0.05tr.fits")],
                          capture_output=True, text=True, check=True)
    on_host = _parse_pybdsf(host.stdout)
    return {"pybdsf_sources": in_image[0], "pybdsf_image_s": round(in_image[1], 2),
            "pybdsf_host_venv_s": round(on_host[1], 2)}


def _parse_pybdsf(output: str) -> tuple[int, float]:
    line = next(x for x in output.splitlines() if x.startswith("PYBDSF "))
    _, nsrc, seconds = line.split()
    return int(nsrc), float(seconds)


def _host_venv(matrix: Matrix, name: str) -> Path:
    """A venv with exactly the image's locked wheels (from the build cache, no index)."""
    from hubimages.locks import file_sha256, lock_path, read_lock
    from hubimages.wheelhouse import fetch

    venv = cache_dir(matrix) / f"bench-venv-{name}"
    lock = lock_path(matrix, name)
    stamp = venv / "lock.sha256"
    digest = file_sha256(lock)
    if stamp.is_file() and stamp.read_text() == digest:
        return venv / "bin" / "python"
    wheels = cache_dir(matrix) / "wheels"
    # Wheels built on the host (local-wheels.yaml) live in a folder of their own.
    folders = sorted({str(p.parent) for p in fetch(read_lock(lock), matrix.settings, wheels)})
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--no-index", *(f"--find-links={f}" for f in folders), "--require-hashes",
                    "-r", str(lock)],
                   check=True, env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"})
    stamp.write_text(digest)
    return venv / "bin" / "python"


def sdc1_score(client: DockerClient, matrix: Matrix) -> float:
    """The sdc1 pipeline's score on the shared cutout, run in the sdc1 image as jovyan."""
    data = sdc1_data_dir(matrix)
    out = client.containers.run(
        image_ref(matrix, "sdc1"),
        ["bash", "-c", "cd \"$(mktemp -d)\" && sdc1-pipeline run --freq 560 --out cat.txt "
                       "--image /data/B1_1000h_0.05tr.fits --pb /data/PrimaryBeam_B1.fits "
                       "--truth /data/truth_B1_0.3tr.cat"],
        remove=True, network_mode="none", volumes={str(data): {"bind": "/data", "mode": "ro"}},
        labels={"hubimages.bench": "1"}, stderr=True)
    match = re.search(r"SDC1 score: ([0-9.]+)", out.decode())
    if match is None:
        raise SystemExit("sdc1-pipeline printed no score")
    return float(match.group(1))


def _print(numbers: dict[str, object]) -> None:
    width = max(map(len, numbers))
    for key, value in numbers.items():
        print(f"{key.ljust(width)}  {value}")
