"""docs/benchmarks.md as `invoke bench` writes it: every number, the machine, the date, goals."""

from __future__ import annotations

from pathlib import Path

from hubimages.bench.machine import Machine, this_machine
from hubimages.bench.report import REPORT, render, write_report
from hubimages.bench.workflows import release_workflow_seconds

IMAGES = ["base", "pybdsf", "ml", "rucio", "sdc1"]
VARIANTS = [("trixie", IMAGES), ("bookworm", IMAGES)]
MACHINE = Machine(
    cpu="Test CPU @ 2.0GHz",
    cores=2,
    memory_gib=23.4,
    system="Debian GNU/Linux 12 (bookworm)",
    engine="Docker 20.10.24",
    load=3.2,
    revision="abc1234",
    date="2026-12-03T08:00:00Z",
)
NUMBERS: dict[str, object] = {
    "trixie.base_cold_build_s": 171.3,
    "noop_rebuild_s": 0.62,
    "trixie.base_size_mb": 391,
    "trixie.sdc1_size_mb": 1702,
    "trixie.sdc1_compressed_mb": 497,
    "trixie.base_last_build_s": 120.5,
    "trixie.base_start_to_api_s_median": 0.8,
    "trixie.base_start_to_api_s_max": 0.95,
    "trixie.base_idle_cpu_s_per_30s": 0.21,
    "trixie.base_idle_cpu_percent_of_a_core": 0.7,
    "trixie.pybdsf_image_s": 1.5,
    "trixie.pybdsf_host_venv_s": 1.6,
    "trixie.pybdsf_sources": 44,
    "trixie.sdc1_score": 36.83,
    "trixie.ml_push_s": 20.4,
    "trixie.ml_repush_s": 0.03,
    "rucio_start_s": 4.2,
    "rucio_stop_s": 3.9,
    "rucio_start_database_s": 1.1,
    "trixie.sign_sbom_provenance_all_images_s": 10.6,
    "trixie.verify_all_images_s": 0.42,
    "trixie.sdc1_findings": 2,
    "trixie.sdc1_findings_blocking": 0,
    "trixie.sdc1_unaudited": 204,
    "bookworm.base_size_mb": 377,
    "bookworm.sdc1_findings": 7,
    "bookworm.sdc1_findings_blocking": 1,
    "bookworm.sdc1_unaudited": 190,
    "trixie.workflow_pybdsf-quicklook_s": 41.2,
    "trixie.workflow_runs_s": 95.0,
    "bookworm.workflow_look-old_s": "FAILED: notebook look.ipynb, cell 2",
    "bookworm.workflow_runs_s": 12.5,
    "workflows_added_to_release_s": 107.5,
    "catalogue_query_ms_median": 4.1,
    "launch_to_notebook_s": 11.0,
}


def test_the_report_shows_every_number_the_machine_and_the_date() -> None:
    text = render(NUMBERS, VARIANTS, MACHINE)
    assert text.startswith("# Benchmarks\n")
    assert "2026-12-03T08:00:00Z at commit abc1234" in text
    assert "Test CPU @ 2.0GHz, 2 cores, 23.4 GiB, Debian GNU/Linux 12 (bookworm)" in text
    assert "Docker 20.10.24; load average 3.2 at the start" in text
    for row in (
        "| `base` | 391 MB | not measured | at most 480 MB: met |",
        "| `sdc1` | 1 702 MB | 497 MB | at most 1600 MB: MISSED |",
        "| cold build of `base` (empty cache, own namespace) | 171.3 s |",
        "| `base` | 0.8 s (max 0.95 s) | at most 1 s: met | 0.21 s (0.7 % of a core) |",
        "| sources PyBDSF finds there | 44 |",
        "| `ml` | 20.4 s | 0.03 s |",
        "| start: database | 1.1 s |  |",
        "| SBOMs, provenance and signatures of every image | 10.6 s | at most 30 s: met |",
        "| `invoke verify` of every image | 0.42 s | at most 10 s: met |",
        "| `sdc1` | 2 | 0 | 204 |",
        "| headless run of `pybdsf-quicklook` | 41.2 s |",
        "| headless run of `look-old` | FAILED: notebook look.ipynb, cell 2 |",
        "| what the workflow runs add to a release of every image, every variant | 107.5 s | "
        "at most 180 s: met |",
        "| launch link to notebook open, image present (the last `invoke e2e`) | 11.0 s | "
        "at most 15 s: met |",
    ):
        assert row in text, row
    assert text.count("not measured") > 5  # what this run did not measure is said, not left out
    trixie, bookworm = text.index("## Variant `trixie`"), text.index("## Variant `bookworm`")
    assert trixie < text.index("| `base` | 391 MB |") < bookworm  # each variant's own numbers
    assert bookworm < text.index("| `base` | 377 MB |") < text.index("## The local Rucio")
    assert trixie < text.index("| `sdc1` | 2 | 0 | 204 |") < bookworm  # the audit per variant
    assert bookworm < text.index("| `sdc1` | 7 | 1 | 190 |")
    # each variant's headless runs in its section; what they add to a release, once
    assert trixie < text.index("`pybdsf-quicklook`") < bookworm < text.index("`look-old`")
    assert text.index("## The local Rucio") < text.index("## Workflows and the catalogue")


def test_what_the_workflow_runs_add_to_a_release_of_every_variant() -> None:
    assert release_workflow_seconds(NUMBERS) == {"workflows_added_to_release_s": 107.5}
    assert release_workflow_seconds({"trixie.base_size_mb": 1}) == {}


def test_the_report_is_written_to_docs(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / REPORT).write_text("old\n")
    path = write_report(tmp_path, NUMBERS, VARIANTS, MACHINE)
    assert path == tmp_path / "docs" / "benchmarks.md"
    assert path.read_text() == render(NUMBERS, VARIANTS, MACHINE)
    assert list((tmp_path / "docs").iterdir()) == [path]  # no temporary file left


def test_this_machine_reads_the_real_machine() -> None:
    machine = this_machine("20.10.24+dfsg1", Path(__file__).resolve().parents[2])
    assert machine.cores >= 1 and machine.memory_gib > 0 and machine.cpu
    assert machine.engine == "Docker 20.10.24+dfsg1"
    assert len(machine.revision) == 7 and machine.date.endswith("Z")
