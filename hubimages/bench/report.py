"""docs/benchmarks.md: the numbers of one `invoke bench` run, with the machine and the date.

The only place the project's measured figures are written down; every other document links
here. Goals are data of the benchmark too: each is shown beside its number, met or missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hubimages.bench import SERVER_IMAGES
from hubimages.bench.goals import GOALS
from hubimages.bench.machine import Machine
from hubimages.core.files import write_atomically

REPORT = Path("docs") / "benchmarks.md"  # relative to the project's root


Numbers = Mapping[str, object]


def shown(numbers: Numbers, key: str, unit: str = "") -> str:
    value = numbers.get(key)
    if value is None:
        return "not measured"
    if not isinstance(value, int | float):
        return str(value)  # what was not measured, or a failure: said as it is, no unit
    text = f"{value:,}".replace(",", " ") if isinstance(value, int) else str(value)
    return f"{text} {unit}".rstrip()


def goal_of(numbers: Numbers, key: str) -> str:
    goal = GOALS.get(key)
    return goal.judge(numbers.get(key)) if goal else ""


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def sizes(numbers: Numbers, images: Sequence[str]) -> list[str]:
    rows = [
        (
            f"`{name}`",
            shown(numbers, f"{name}_size_mb", "MB"),
            shown(numbers, f"{name}_compressed_mb", "MB"),
            goal_of(numbers, f"{name}_size_mb"),
        )
        for name in images
    ]
    return [
        "### Image sizes",
        "",
        "Uncompressed as the engine reports it; compressed as the registry stores it (what a",
        "node pulls the first time).",
        "",
        *table(("image", "size", "compressed", "goal"), rows),
    ]


def builds(numbers: Numbers, images: Sequence[str]) -> list[str]:
    rows = [
        (
            "cold build of `base` (empty cache, own namespace)",
            shown(numbers, "base_cold_build_s", "s"),
        ),
        (
            "no-op `invoke build` of the whole matrix (every image up to date)",
            shown(numbers, "noop_rebuild_s", "s"),
        ),
    ]
    rows += [
        (
            f"last real build of `{name}` (from `.cache/build-times.json`)",
            shown(numbers, f"{name}_last_build_s", "s"),
        )
        for name in images
    ]
    return ["### Builds", "", *table(("what", "time"), rows)]


def servers(numbers: Numbers, images: Sequence[str]) -> list[str]:
    rows = [
        (
            f"`{name}`",
            f"{shown(numbers, f'{name}_start_to_api_s_median', 's')} "
            f"(max {shown(numbers, f'{name}_start_to_api_s_max', 's')})",
            goal_of(numbers, f"{name}_start_to_api_s_median"),
            f"{shown(numbers, f'{name}_idle_cpu_s_per_30s', 's')} "
            f"({shown(numbers, f'{name}_idle_cpu_percent_of_a_core', '%')} of a core)",
        )
        for name in images
        if name in SERVER_IMAGES
    ]
    return [
        "### Servers",
        "",
        "`docker run` to the server's `/api` answering (median of 5 starts), and the CPU an idle",
        "server container spends per 30 s, its healthcheck included.",
        "",
        *table(("image", "start to /api", "goal", "idle CPU per 30 s"), rows),
    ]


def science(numbers: Numbers) -> list[str]:
    rows = [
        (
            "PyBDSF on the SDC1 cutout, in the `pybdsf` image (best of 3)",
            shown(numbers, "pybdsf_image_s", "s"),
        ),
        ("the same in a host venv of the same lock", shown(numbers, "pybdsf_host_venv_s", "s")),
        ("sources PyBDSF finds there", shown(numbers, "pybdsf_sources")),
        (
            "the sdc1 pipeline's SDC1 score on the cutout (`sdc1-pipeline run`)",
            shown(numbers, "sdc1_score"),
        ),
    ]
    return ["### Science", "", *table(("what", "result"), rows)]


def pushes(numbers: Numbers, images: Sequence[str]) -> list[str]:
    rows = [
        (
            f"`{name}`",
            shown(numbers, f"{name}_push_s", "s"),
            shown(numbers, f"{name}_repush_s", "s"),
        )
        for name in images
    ]
    return [
        "### Pushes",
        "",
        "To an empty local registry, parents first (their layers are there already, as in a",
        "release), then the same image again under another tag.",
        "",
        *table(("image", "first push", "again"), rows),
    ]


def trust(numbers: Numbers, images: Sequence[str]) -> list[str]:
    """What the supply chain adds to a release (docs/supply-chain.md), and the audit's findings."""
    rows = [
        (what, shown(numbers, key, "s"), goal_of(numbers, key))
        for what, key in (
            ("the vulnerability audit of every image", "audit_s"),
            (
                "SBOMs, provenance and signatures of every image",
                "sign_sbom_provenance_all_images_s",
            ),
            ("`invoke verify` of every image", "verify_all_images_s"),
        )
    ]
    findings = [
        (
            f"`{name}`",
            shown(numbers, f"{name}_findings"),
            shown(numbers, f"{name}_findings_blocking"),
            shown(numbers, f"{name}_unaudited"),
        )
        for name in images
    ]
    return [
        "### Supply chain",
        "",
        "Added to a release of the variant's images, and the vulnerability audit's findings",
        "that day (unaudited: distributions pip-audit could not read PyPI's advisories of).",
        "",
        *table(("what", "time", "goal"), rows),
        *table(("image", "findings", "blocking", "unaudited"), findings),
    ]


def rucio(numbers: Numbers) -> list[str]:
    parts = sorted(
        key.removeprefix("rucio_start_").removesuffix("_s")
        for key in numbers
        if key.startswith("rucio_start_") and key != "rucio_start_s"
    )
    rows = [
        (
            "start (`invoke rucio-site`)",
            shown(numbers, "rucio_start_s", "s"),
            goal_of(numbers, "rucio_start_s"),
        ),
        ("stop", shown(numbers, "rucio_stop_s", "s"), ""),
        *((f"start: {part}", shown(numbers, f"rucio_start_{part}_s", "s"), "") for part in parts),
    ]
    return ["## The local Rucio", "", *table(("what", "time", "goal"), rows)]


def workflow_runs(numbers: Numbers) -> list[str]:
    """One variant's headless runs of its workflows (docs/workflows.md)."""
    runs = sorted(
        k.removeprefix("workflow_").removesuffix("_s")
        for k in numbers
        if k.startswith("workflow_") and k.endswith("_s") and k != "workflow_runs_s"
    )
    if not runs:
        return []
    rows = [
        (f"headless run of `{name}`", shown(numbers, f"workflow_{name}_s", "s")) for name in runs
    ]
    rows.append(("all of them, one after the other", shown(numbers, "workflow_runs_s", "s")))
    return ["### Workflows", "", *table(("what", "time"), rows)]


def workflows(numbers: Numbers) -> list[str]:
    """docs/workflows.md: what the runs add to a release, the catalogue's queries, a launch."""
    rows = [
        (
            "what the workflow runs add to a release of every image, every variant",
            shown(numbers, "workflows_added_to_release_s", "s"),
            goal_of(numbers, "workflows_added_to_release_s"),
        ),
        (
            f"catalogue query ({numbers.get('catalogue_query', '-')}), median of 50 over HTTP",
            shown(numbers, "catalogue_query_ms_median", "ms"),
            goal_of(numbers, "catalogue_query_ms_median"),
        ),
        (
            "launch link to notebook open, image present (the last `invoke e2e`)",
            shown(numbers, "launch_to_notebook_s", "s"),
            goal_of(numbers, "launch_to_notebook_s"),
        ),
    ]
    return ["## Workflows and the catalogue", "", *table(("what", "time", "goal"), rows)]


def variant_view(numbers: Numbers, variant: str) -> dict[str, object]:
    """One variant's numbers under their plain keys, beside the numbers of no variant."""
    prefix = f"{variant}."
    found = {key: value for key, value in numbers.items() if "." not in key}
    found.update({k.removeprefix(prefix): v for k, v in numbers.items() if k.startswith(prefix)})
    return found


def variant_sections(numbers: Numbers, variant: str, images: Sequence[str]) -> list[str]:
    view = variant_view(numbers, variant)
    return [
        f"## Variant `{variant}`",
        "",
        *sizes(view, images),
        *builds(view, images),
        *servers(view, images),
        *science(view),
        *pushes(view, images),
        *trust(view, images),
        *workflow_runs(view),
    ]


def render(
    numbers: Numbers, variants: Sequence[tuple[str, Sequence[str]]], machine: Machine
) -> str:
    """The report: each variant's sections (its images in build order), then the local Rucio
    and the workflows' numbers of every variant."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `invoke bench` on {machine.date} at commit {machine.revision}: do not edit;",
        "run `invoke bench` again. Every measured figure of the project is here and nowhere else.",
        "",
        f"Machine: {machine.cpu}, {machine.cores} cores, {machine.memory_gib:g} GiB, "
        f"{machine.system}, {machine.engine}; load average {machine.load:g} at the start "
        "(other work on the machine makes the times longer).",
        "",
    ]
    for variant, images in variants:
        lines += variant_sections(numbers, variant, images)
    lines += rucio(numbers)
    lines += workflows(numbers)
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    project_root: Path,
    numbers: Numbers,
    variants: Sequence[tuple[str, Sequence[str]]],
    machine: Machine,
) -> Path:
    path = project_root / REPORT
    write_atomically(path, render(numbers, variants, machine))
    return path
