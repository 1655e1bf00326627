"""All benchmark numbers, in one dictionary the command line prints, `.cache/` keeps and
docs/benchmarks.md shows with the machine and the date."""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

from hubimages.bench import SERVER_IMAGES
from hubimages.bench.builds import cold_base_build, noop_rebuild_seconds
from hubimages.bench.idle import WINDOW_S, idle_cpu_seconds
from hubimages.bench.machine import this_machine
from hubimages.bench.pushes import push_timings
from hubimages.bench.report import write_report
from hubimages.bench.rucio import rucio_timings
from hubimages.bench.science import pybdsf_timings, sdc1_score
from hubimages.bench.startup import startup_seconds
from hubimages.bench.trust import trust_timings
from hubimages.bench.workflows import (
    catalogue_query_timings,
    launch_timings,
    release_workflow_seconds,
    workflow_timings,
)
from hubimages.builder.run import BuildRun
from hubimages.builder.scheduler import build_images, build_variants, failed
from hubimages.builder.timings import read_build_times
from hubimages.core.files import write_json
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order

log = logging.getLogger(__name__)


def run_benchmark(runs: list[BuildRun], cold: bool = True) -> tuple[dict[str, object], Path]:
    """Every figure of each variant of `runs`, its keys prefixed with the variant's name; the
    no-op rebuild of all of them, the local Rucio, the catalogue and the launch link (no
    variant) once; and the report written with them (docs/benchmarks.md)."""
    first = runs[0]
    machine = this_machine(str(first.client.version().get("Version", "?")), first.matrix.root)
    log.info("making sure every image is built")
    if failed(build_variants(runs, None)):
        raise HubImagesError("the build failed; no further numbers")
    numbers: dict[str, object] = {}
    numbers["noop_rebuild_s"] = round(
        noop_rebuild_seconds(first.matrix, [r.matrix.variant.name for r in runs]), 2
    )
    for run in runs:
        own = measure(run, cold)
        write_json(run.cache.bench, own)
        numbers.update({f"{run.matrix.variant.name}.{key}": value for key, value in own.items()})
    if "rucio" in first.matrix.declared:
        numbers.update(rucio_timings(first.client, first.matrix, first.cache))
    numbers.update(release_workflow_seconds(numbers))
    numbers.update(catalogue_query_timings(first.cache.publish_root))
    numbers.update(launch_timings(first.cache.e2e))
    variants = [(r.matrix.variant.name, build_order(r.matrix)) for r in runs]
    report = write_report(first.matrix.root, numbers, variants, machine)
    return numbers, report


def measure(run: BuildRun, cold: bool) -> dict[str, object]:
    client, matrix = run.client, run.matrix
    numbers: dict[str, object] = {}
    if cold:
        log.info("%s: cold build of base (empty cache, separate namespace)", matrix.variant.name)
        seconds, size = cold_base_build(client, matrix)
        numbers["base_cold_build_s"] = round(seconds, 1)
        numbers["base_cold_size_mb"] = round(size / 1e6)
    results = build_images(run, [])  # up to date: the sizes
    built = read_build_times(run.cache.build_times)
    for result in results:
        numbers[f"{result.name}_size_mb"] = round(result.size / 1e6)
        if result.name in built:
            numbers[f"{result.name}_last_build_s"] = built[result.name]["seconds"]
    for name in SERVER_IMAGES:
        if name in matrix.images:
            numbers.update(server_numbers(run, name))
    if "pybdsf" in matrix.images:
        numbers.update(pybdsf_timings(client, matrix, run.cache))
    if "sdc1" in matrix.images:
        numbers["sdc1_score"] = sdc1_score(client, matrix)
    numbers.update(push_timings(client, matrix))
    numbers.update(trust_timings(client, matrix, run.cache))
    numbers.update(workflow_timings(run))
    return numbers


def server_numbers(run: BuildRun, name: str) -> dict[str, object]:
    """Start to /api (median and max of several starts) and idle CPU of one image's server."""
    ref = run.matrix.local_ref(name)
    log.info("%s: server start-up times and idle CPU (%ds)", name, WINDOW_S)
    times = startup_seconds(run.client, ref)
    idle = idle_cpu_seconds(run.client, ref)
    return {
        f"{name}_start_to_api_s_median": round(statistics.median(times), 2),
        f"{name}_start_to_api_s_max": round(max(times), 2),
        f"{name}_idle_cpu_s_per_{WINDOW_S}s": round(idle, 3),
        f"{name}_idle_cpu_percent_of_a_core": round(100 * idle / WINDOW_S, 2),
    }
