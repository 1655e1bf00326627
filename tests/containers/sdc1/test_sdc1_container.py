"""SDC1 image: sdc1-pipeline unit tests, the CLI on the shared cutout, the example notebook.

Everything runs as jovyan. The image carries the sample data (/opt/sdc1/data, SDC1_DATA): the
example runs in a plain `docker run`; most tests mount the repository's copy at /data/sdc1
instead, as a site would mount a larger one. The package's tests and the notebook run against
the installed package.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from hubimages.core.files import file_sha256
from tests.containers.helpers import exec_text
from tests.containers.sdc1.example import INSTALLED, NOTEBOOK, notebook_result

IMAGE_DIR = Path(__file__).resolve().parents[3] / "images" / "sdc1"
PKG_TESTS = IMAGE_DIR / "sdc1-pipeline" / "tests"
SEED_SCORE = 28.80  # seed solution on this cutout (fitted sizes, all SFG)


def test_package_unit_tests_pass_as_jovyan(run_container) -> None:
    rc, logs = run_container(
        [
            "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            "--rootdir",
            "/tmp",
            "/opt/sdc1-tests",
        ],
        mounts={PKG_TESTS: "/opt/sdc1-tests"},
    )
    assert rc == 0, logs[-6000:]
    summary = re.search(r"(\d+) passed", logs)
    assert summary and int(summary.group(1)) >= 30, logs[-3000:]
    assert "skipped" not in logs.splitlines()[-1], logs[-3000:]  # data found at /data/sdc1


def test_installed_package_not_the_mounted_sources(run_container) -> None:
    rc, logs = run_container(
        ["python", "-c", "import sdc1_pipeline, ska_sdc, bdsf; print(sdc1_pipeline.__file__)"]
    )
    assert rc == 0, logs
    assert "site-packages" in logs or "dist-packages" in logs


CLI = r"""
set -e
cd "$(mktemp -d)"
sdc1-pipeline --help > /dev/null
sdc1-pipeline run --image /data/sdc1/B1_1000h_0.05tr.fits --pb /data/sdc1/PrimaryBeam_B1.fits \
    --truth /data/sdc1/truth_B1_0.3tr.cat --freq 560 --out cat.txt --seed
python - <<'PY'
import json, warnings
warnings.simplefilter("ignore")
import pandas as pd
from ska_sdc import Sdc1Scorer
cols = "id ra_core dec_core ra_cent dec_cent flux core_frac b_maj b_min pa size class".split()
cat = pd.read_csv("cat.txt", sep=r"\s+")
s = Sdc1Scorer.from_txt("cat.txt", "/data/sdc1/truth_B1_0.3tr.cat", freq=560)
r = s.run(mode=0, train=True, detail=False)
print("CHECK_JSON:" + json.dumps({"columns": list(cat.columns), "rows": len(cat),
      "nan": int(cat.isna().sum().sum()), "ra_ok": bool(cat.ra_core.between(-180, 180).all()),
      "score": r.value, "n_match": r.n_match, "expected": cols}))
PY
"""


def test_cli_writes_valid_catalogue_and_prints_score(run_container) -> None:
    rc, logs = run_container(["bash", "-c", CLI], timeout=900)
    assert rc == 0, logs[-5000:]
    printed = re.search(r"SDC1 score: ([0-9.]+)", logs)
    seed = re.search(r"seed score: ([0-9.]+)", logs)
    assert printed and seed, logs[-3000:]
    assert abs(float(seed.group(1)) - SEED_SCORE) < 0.01
    check = json.loads(
        next(ln for ln in logs.splitlines() if ln.startswith("CHECK_JSON:")).removeprefix(
            "CHECK_JSON:"
        )
    )
    assert check["columns"] == check["expected"]
    assert check["rows"] == 44 and check["nan"] == 0 and check["ra_ok"]
    assert abs(check["score"] - float(printed.group(1))) < 0.01  # scorer agrees with the CLI
    assert check["score"] > SEED_SCORE + 5
    assert check["n_match"] == 44


def test_example_notebook_runs_in_a_plain_docker_run(containers, sdc1_data: Path) -> None:
    """`docker run` of the image, nothing mounted, nothing set: the example in the home runs
    on the sample data the image carries (any hub's profile is no more than this)."""
    server = containers.server()
    code, logs = exec_text(server, f'python -c {shlex.quote(NOTEBOOK)} "$HOME/sdc1-example.ipynb"')
    assert code == 0, logs[-6000:]
    res = notebook_result(logs)
    assert res["data_line"].startswith("data: /opt/sdc1/data |"), res["data_line"]
    assert res["data_listing"] == sorted(p.name for p in sdc1_data.iterdir())


def test_the_image_carries_the_repositorys_sample_data(containers, sdc1_data: Path) -> None:
    """data/sdc1 byte for byte, licence included, read-only for the user."""
    result = containers.run(
        ["bash", "-c", 'cd "$SDC1_DATA" && sha256sum -- * && ! touch x 2>/dev/null'],
        network_mode="none",
    )
    assert result.exit_code == 0, result.output
    inside = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()}
    assert inside == {p.name: file_sha256(p) for p in sdc1_data.iterdir()}
    assert "LICENSE" in inside


def test_a_mounted_copy_takes_the_place_of_the_images_data(run_container) -> None:
    """The tests mount data/sdc1 at /data/sdc1 and set SDC1_DATA there: a site's larger copy
    is used the same way."""
    rc, logs = run_container(["python", "-c", NOTEBOOK, INSTALLED], timeout=900)
    assert rc == 0, logs[-6000:]
    res = notebook_result(logs)
    assert res["data_line"].startswith("data: /data/sdc1 |"), res["data_line"]
    assert not [f for f in res["data_listing"] if f.endswith(".log")]  # nothing written there


def test_example_notebook_appears_in_home(run_container) -> None:
    """JupyterLab shows the home folder: the example is copied there once, at start."""
    rc, logs = run_container(["bash", "-c", 'ls -a "$HOME"'])
    assert rc == 0, logs
    assert "sdc1-example.ipynb" in logs.split()
    assert ".sdc1-example-copied" in logs.split()
