"""The sdc1 example notebook, executed where a scientist would run it: a script that runs a
notebook with nbclient in the image and prints what it found, and the checks of that result.
The container tests and the publish tests (a DockerSpawner spawn) share them."""

from __future__ import annotations

import json

NOTEBOOK = r"""
import json, os, sys, tempfile
import nbformat
from nbclient import NotebookClient
work = tempfile.mkdtemp(prefix="nb-")
# As in JupyterLab: the kernel's inline backend, not the Agg set for scripts in these tests.
os.environ.pop("MPLBACKEND", None)
nb = nbformat.read(sys.argv[1], as_version=4)
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
    "data_line": next((l for l in text.splitlines() if l.startswith("data:")), ""),
    "data_listing": sorted(os.listdir(os.environ["SDC1_DATA"])),
}))
"""
INSTALLED = "/opt/sdc1/notebooks/sdc1-example.ipynb"


def notebook_result(logs: str) -> dict:
    """What the NOTEBOOK script found, checked for a complete, clean run."""
    res = json.loads(
        next(ln for ln in logs.splitlines() if ln.startswith("NB_JSON:")).removeprefix("NB_JSON:")
    )
    assert res["errors"] == 0
    assert res["executed_in_order"]
    assert res["cells_with_output"] >= res["code_cells"] - 1  # the imports cell prints nothing
    assert res["pngs"] >= 1
    assert res["has_scores"]
    return res
