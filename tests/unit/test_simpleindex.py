"""The site index of services.simpleindex: pip itself installs from it (on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from hubimages.services.simpleindex import PurePythonWheel, serving, write_index

# pip as on a machine without pip configuration: only the index named on the command line.
PIP_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
    "PIP_CONFIG_FILE": os.devnull,
}
PROBE = PurePythonWheel("Site-Probe", "1.2", "def greet():\n    return 'hello from the site'\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    files = tmp_path / "site" / "files"
    files.mkdir(parents=True)
    write_index(tmp_path / "site", [PROBE.write(files)])
    return tmp_path / "site"


def test_the_wheel_is_valid_and_named_for_its_module(tmp_path: Path) -> None:
    wheel = PROBE.write(tmp_path)
    assert wheel.name == "site_probe-1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.testzip() is None
        record = archive.read("site_probe-1.2.dist-info/RECORD").decode()
    assert record.splitlines()[0].startswith("site_probe.py,sha256=")
    assert PROBE.write(tmp_path / "..").read_bytes() == wheel.read_bytes()  # reproducible


def test_pip_installs_from_the_index_and_the_module_imports(site: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    with serving(site, "127.0.0.1") as url:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--index-url",
                url,
                "--target",
                str(target),
                "site-probe==1.2",
            ],
            capture_output=True,
            text=True,
            check=False,
            env=PIP_ENV,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    run = subprocess.run(
        [sys.executable, "-c", "import site_probe; print(site_probe.greet())"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(target)},
    )
    assert run.stdout.strip() == "hello from the site", run.stderr


def test_a_project_the_index_lacks_is_not_found(site: Path, tmp_path: Path) -> None:
    with serving(site, "127.0.0.1") as url:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-cache-dir",
                "--no-deps",
                "--disable-pip-version-check",
                "--index-url",
                url,
                "-d",
                str(tmp_path),
                "numpy",
            ],
            capture_output=True,
            text=True,
            check=False,
            env=PIP_ENV,
        )
    assert result.returncode != 0
    assert "No matching distribution found for numpy" in result.stderr


def test_a_stopped_index_no_longer_answers(site: Path) -> None:
    with serving(site, "127.0.0.1") as url:
        with urllib.request.urlopen(url, timeout=5) as page:  # noqa: S310 (our own, local)
            assert b'href="site-probe/"' in page.read()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)  # noqa: S310
