"""`invoke conformance`: the suite checkout, its test dependencies, the pytest command, the
per-file report, the known divergences (and that docs/docker-stacks.md lists each of them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.types import IPAMConfig, IPAMPool

from hubimages.errors import HubImagesError
from hubimages.verify.conformance import (
    EXCLUDED,
    OWNER,
    PLUGIN,
    REGISTRY,
    check_suite,
    pytest_command,
    suite_requirements,
)
from hubimages.verify.conformance_plugin import LABEL, _labelled
from hubimages.verify.conformance_report import (
    KNOWN_DIVERGENCES,
    ConformanceReport,
    FileResult,
    file_results,
)

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = """docker==7.2.0
plumbum==2.0.2
pre-commit==4.6.1
pytest==9.1.1
# `pytest-xdist` provides --numprocesses
pytest-xdist==3.8.0
"""


def fake_suite(root: Path) -> Path:
    (root / "requirements-dev.txt").write_text(REQUIREMENTS)
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text("")
    for image in EXCLUDED:
        (root / "tests" / "by_image" / image).mkdir(parents=True)
    return root


def test_a_checkout_is_accepted_and_its_test_requirements_read(tmp_path: Path) -> None:
    suite = check_suite(fake_suite(tmp_path))
    # pre-commit runs their linters; no test needs it.
    assert suite_requirements(suite) == [
        "docker==7.2.0",
        "plumbum==2.0.2",
        "pytest==9.1.1",
        "pytest-xdist==3.8.0",
    ]


@pytest.mark.parametrize("remove", ["requirements-dev.txt", "tests/by_image/base-notebook", ""])
def test_another_folder_is_one_clear_error(tmp_path: Path, remove: str) -> None:
    (tmp_path / "checkout").mkdir()
    root = fake_suite(tmp_path / "checkout") if remove else tmp_path / "nothing"
    if remove:
        target = root / remove
        target.rmdir() if target.is_dir() else target.unlink()
    with pytest.raises(HubImagesError) as error:
        check_suite(root)
    assert "clone https://github.com/jupyter/docker-stacks" in str(error.value)
    assert (remove or "no such folder") in str(error.value)


def test_the_pytest_command_leaves_out_the_conda_files_and_loads_our_plugin(tmp_path: Path) -> None:
    suite = check_suite(fake_suite(tmp_path))
    command = pytest_command(
        Path("/venv/bin/python"), suite, "docker-stacks-foundation", tmp_path / "out.xml"
    )
    ignored = sorted(arg.rsplit("/", 1)[1] for arg in command if arg.startswith("--ignore="))
    assert ignored == sorted(f"{name}.py" for name in EXCLUDED["docker-stacks-foundation"])
    assert "test_package_managers.py" in ignored
    assert command[command.index("-p") + 1] == PLUGIN
    assert {
        f"--registry={REGISTRY}",
        f"--owner={OWNER}",
        "--image=docker-stacks-foundation",
        "-m",
    } <= set(command)
    assert OWNER != "jupyter"  # never shadow real upstream tags


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="by_image.base-notebook.test_healthcheck" name="test_healthy[env0]"/>
<testcase classname="by_image.base-notebook.test_healthcheck" name="test_healthy[env4-None-None]">
<failure message="unhealthy"/></testcase>
<testcase classname="by_image.base-notebook.test_ips" name="test_ipv46"><error message="x"/>
</testcase>
<testcase classname="by_image.base-notebook.test_ips" name="test_other"><skipped/></testcase>
</testsuite></testsuites>
"""


def test_the_report_counts_per_file(tmp_path: Path) -> None:
    junit = tmp_path / "base-notebook.xml"
    junit.write_text(JUNIT)
    files = {f.name: f for f in file_results("base-notebook", junit)}
    failed = ("test_healthcheck::test_healthy[env4-None-None]",)
    assert files["test_healthcheck"] == FileResult(
        "base-notebook", "test_healthcheck", 2, 1, 0, failed
    )
    assert files["test_ips"] == FileResult(
        "base-notebook", "test_ips", 2, 0, 1, ("test_ips::test_ipv46",)
    )


def test_an_unreadable_report_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HubImagesError, match="no readable JUnit report"):
        file_results("base-notebook", tmp_path / "missing.xml")


def report(passed: int, failed: tuple[str, ...]) -> ConformanceReport:
    return ConformanceReport(
        "sha256:x", [FileResult("f", "test_x", passed + len(failed), passed, 0, failed)]
    )


def test_the_goal_needs_95_percent_and_only_known_divergences() -> None:
    known = tuple(KNOWN_DIVERGENCES)
    assert report(86, known).meets_goal
    assert not report(86, (*known[:2], "test_x::test_new")).meets_goal  # unexpected failure
    assert not report(40, known).meets_goal  # below 95 %
    assert not ConformanceReport("sha256:x").meets_goal  # nothing ran


def test_the_docs_list_every_known_divergence_and_excluded_file() -> None:
    readme = (REPO / "docs" / "docker-stacks.md").read_text()
    for test in KNOWN_DIVERGENCES:
        assert f"`{test}`" in readme, test
    for names in EXCLUDED.values():
        for name in names:
            assert name in readme, name


def test_the_plugin_labels_and_wraps_an_ipv6_pool() -> None:
    seen: dict[str, object] = {}

    def create(self: object, name: str, **kwargs: object) -> None:
        seen.update(kwargs, name=name)

    pool = IPAMPool(subnet="fc00:1:2:3::/64", gateway="fc00:1:2:3::1")
    _labelled(create)(None, "net", ipam=pool, labels={"keep": "1"})
    assert seen["labels"] == {"keep": "1", LABEL: "1"}
    assert isinstance(seen["ipam"], IPAMConfig)
    assert seen["ipam"]["Config"] == [pool]
