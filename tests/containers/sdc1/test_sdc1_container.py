"""SDC1 image: sdc1-pipeline unit tests, the CLI on the shared cutout, the example notebook.

Everything runs as jovyan with the SDC1 data read-only at /data/sdc1; the package's tests and
the installed notebook runs against the installed package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

IMAGE_DIR = Path(__file__).resolve().parents[3] / "images" / "sdc1"
PKG_TESTS = IMAGE_DIR / "sdc1-pipeline" / "tests"
SEED_SCORE = 28.80  # seed solution on this cutout (fitted sizes, all SFG)


def test_package_unit_tests_pass_as_jovyan(run_container) -> None:  # type: ignore[no-untyped-def]
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


def test_installed_package_not_the_mounted_sources(run_container) -> None:  # type: ignore[no-untyped-def]
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


def test_cli_writes_valid_catalogue_and_prints_score(run_container) -> None:  # type: ignore[no-untyped-def]
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


NOTEBOOK = r"""
import json, os, tempfile
import nbformat
from nbclient import NotebookClient
work = tempfile.mkdtemp(prefix="nb-")
# As in JupyterLab: the kernel's inline backend, not the Agg set for scripts in these tests.
os.environ.pop("MPLBACKEND", None)
nb = nbformat.read("/opt/sdc1/notebooks/sdc1-example.ipynb", as_version=4)  # as installed
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": work}}).execute()
nbformat.write(nb, os.path.join(work, "executed.ipynb"))
code = [c for c in nb.cells if c.cell_type == "code"]
outs = [o for c in code for o in c.get("outputs", [])]
text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
print("NB_JSON:" + json.dumps({
    "code_cells": len(code),
    "cells_with_output": sum(1 for c in code if c.get("outputs")),
    "executed_in_order": [c.execution_count for c in code] == list(range(1, len(code) + 1)),
    "pngs": sum(1 for o in outs if "image/png" in o.get("data", {})),
    "errors": sum(1 for o in outs if o.output_type == "error"),
    "has_scores": "seed:" in text and "ours:" in text,
    "data_listing": sorted(os.listdir("/data/sdc1")),
}))
"""


def test_example_notebook_executes_as_jovyan(run_container) -> None:  # type: ignore[no-untyped-def]
    rc, logs = run_container(["python", "-c", NOTEBOOK], timeout=900)
    assert rc == 0, logs[-6000:]
    res = json.loads(
        next(ln for ln in logs.splitlines() if ln.startswith("NB_JSON:")).removeprefix("NB_JSON:")
    )
    assert res["errors"] == 0
    assert res["executed_in_order"]
    assert res["cells_with_output"] >= res["code_cells"] - 1  # the imports cell prints nothing
    assert res["pngs"] >= 1
    assert res["has_scores"]
    assert not [f for f in res["data_listing"] if f.endswith(".log")]


def test_example_notebook_appears_in_home(run_container) -> None:  # type: ignore[no-untyped-def]
    """JupyterLab shows the home folder: the example is copied there once, at start."""
    rc, logs = run_container(["bash", "-c", 'ls -a "$HOME"'])
    assert rc == 0, logs
    assert "sdc1-example.ipynb" in logs.split()
    assert ".sdc1-example-copied" in logs.split()
