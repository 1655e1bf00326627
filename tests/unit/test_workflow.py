"""The CI workflow follows build-matrix.yaml's lineage and GitHub's hardening rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from hubimages.ci.github import github_outputs
from hubimages.ci.lint import linters
from hubimages.model.lineage import ancestors
from hubimages.model.load import load_matrix

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
STAGE_JOB = re.compile(r"^stage-(\d+)$")


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True.
    return {
        ("on" if key is True else key): value
        for key, value in yaml.safe_load(path.read_text()).items()
    }


def stage_jobs() -> dict[int, dict]:
    jobs = load(CI)["jobs"]
    return {int(m.group(1)): job for name, job in jobs.items() if (m := STAGE_JOB.match(name))}


def test_actionlint_checks_run_scripts_with_shellcheck() -> None:
    """`invoke lint` runs actionlint (once, in CI's unit job) with our shellcheck."""
    assert "-shellcheck=" in " ".join(linters(REPO)["actionlint"])


def test_ci_runs_what_ci_run_runs() -> None:
    """.ci/run is `invoke engine test --variant all e2e`: lint and unit tests, every image's
    container tests in every variant, the engine and publish tests, the browser session. The
    workflow runs each of them once."""
    assert ".venv/bin/invoke engine test --variant all e2e" in (REPO / ".ci" / "run").read_text()
    jobs = load(CI)["jobs"]

    def runs(job: str) -> str:
        return " ".join(step.get("run", "") for step in jobs[job]["steps"])

    stage = " ".join(
        s.get("run", "") for s in load(WORKFLOWS / "build-stage.yml")["jobs"]["image"]["steps"]
    )
    assert "invoke lint" in runs("unit") and "pytest tests/unit" in runs("unit")
    assert 'invoke test -i "$IMAGE" --variant "$VARIANT"' in stage
    assert "pytest tests/engine tests/publish" in runs("tool")
    assert "invoke e2e" in runs("e2e")
    every = " ".join(runs(name) for name, job in jobs.items() if "steps" in job) + stage
    assert every.count("invoke lint") == 1 and every.count("tests/unit") == 1


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
        "        if: ${{ needs.nothing.outputs.x }}\n"
    )
    cmd = [linters(REPO)["actionlint"][0], str(bad)]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode != 0


def test_every_action_is_pinned_by_commit() -> None:
    uses = [
        u
        for path in WORKFLOWS.glob("*.yml")
        for u in re.findall(r"uses:\s*(\S+)", path.read_text())
    ]
    assert uses
    for use in uses:
        if use.startswith("./"):
            continue  # our own reusable workflow
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use), use


def test_permissions_are_read_only() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        workflow = load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        for name, job in workflow["jobs"].items():
            assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, name


def test_stage_jobs_cover_the_lineage_depth_and_read_the_plan() -> None:
    matrix = load_matrix(REPO / "build-matrix.yaml")
    depth = max(len(ancestors(matrix, name)) for name in matrix.images)
    stages = stage_jobs()
    assert sorted(stages) == list(range(depth + 1))
    plan_outputs = load(CI)["jobs"]["plan"]["outputs"]
    views = [matrix.for_variant(name) for name in matrix.variants]
    produced = github_outputs([(view, list(view.images)) for view in views])
    assert set(plan_outputs) == set(produced)
    for index, job in stages.items():
        assert job["with"]["images"] == f"${{{{ needs.plan.outputs.stage-{index} }}}}"
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert "plan" in needs
        if index:
            assert f"stage-{index - 1}" in needs  # parents are built by the stage before


def test_no_image_or_variant_is_named_in_the_workflows() -> None:
    matrix = load_matrix(REPO / "build-matrix.yaml")
    for path in [*WORKFLOWS.glob("*.yml"), REPO / ".ci" / "run"]:
        text = path.read_text()
        for name in [*matrix.images, *matrix.variants]:
            assert not re.search(rf"\b{re.escape(name)}\b", text), (path.name, name)


def test_stage_jobs_are_a_matrix_over_variants_and_images() -> None:
    stage = load(WORKFLOWS / "build-stage.yml")["jobs"]["image"]
    assert stage["strategy"]["matrix"]["include"] == "${{ fromJSON(inputs.images) }}"
    steps = str(stage["steps"])
    assert 'invoke test -i "$IMAGE" --variant "$VARIANT"' in steps
    assert "image-${{ matrix.variant }}-${{ matrix.image }}" in steps  # its artifact
    assert "image-${{ matrix.variant }}-*" in steps  # loads its variant's parents only
    assert stage["env"]["VARIANT"] == "${{ matrix.variant }}"


def test_every_variant_is_released_and_the_default_one_is_browsed() -> None:
    jobs = load(CI)["jobs"]
    assert "--variant all" in str(jobs["release"]["steps"])
    e2e = str(jobs["e2e"]["steps"])
    assert "image-${{ needs.plan.outputs.default-variant }}-*" in e2e
    assert "invoke e2e" in e2e and "--variant" not in e2e


def test_release_runs_only_outside_pull_requests_after_every_stage() -> None:
    release = load(CI)["jobs"]["release"]
    assert "github.event_name != 'pull_request'" in release["if"]
    assert "vars.REGISTRY" in release["if"]
    assert {"unit", "tool", "e2e", *(f"stage-{i}" for i in stage_jobs())} <= set(release["needs"])
    assert "secrets.REGISTRY_PASSWORD" in str(release["steps"])
