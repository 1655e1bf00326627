"""Runs inside a container of the image under test, as its notebook user, with the image's own
Python: execute a workflow's notebooks top to bottom with nbclient, keep their outputs, and
write what happened to RESULT (JSON, read by verify.workflow_run on the host).

    python notebook_runner.py --output DIR --result RESULT --timeout SECONDS NOTEBOOK...

Paths are relative to the working directory (the workflow's repository). Only the image's
packages are imported (nbclient, nbformat, IPython): nothing of the build tool.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--timeout", type=int, required=True)
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    results: list[dict[str, Any]] = []
    modules: set[str] = set()
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        modules |= imported_modules(notebook)
        result = run_notebook(notebook, path, max(1, int(deadline - time.monotonic())))
        target = args.output / path
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)  # outputs kept, also of a failed run
        results.append(result)
        if result["error"] is not None:
            break  # a notebook after a failed one would run on a broken state
    args.result.write_text(json.dumps({"notebooks": results, "uses": distributions(modules)}))


def run_notebook(notebook: Any, path: str, timeout: int) -> dict[str, Any]:
    """Every cell in order; the first error stops it and is reported with its cell."""
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=notebook.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    started = time.monotonic()
    error: dict[str, Any] | None = None
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
                error = cell_error(index, cell, failure, timeout)
                break
    return {
        "path": path,
        "seconds": round(time.monotonic() - started, 2),
        "cells": len(notebook.cells),
        "error": error,
    }


def cell_error(index: int, cell: Any, failure: Exception, timeout: int) -> dict[str, Any]:
    if isinstance(failure, CellTimeoutError):
        name, value = "Timeout", f"the cell ran past the workflow's {timeout} s"
    elif isinstance(failure, CellExecutionError):
        name, value = failure.ename, failure.evalue
    else:
        name, value = "DeadKernelError", str(failure)
    source = "".join(cell.get("source", "")).strip().splitlines()
    return {
        "cell": index + 1,  # as a reader counts the cells of the notebook
        "execution_count": cell.get("execution_count"),
        "ename": name,
        "evalue": " ".join(str(value).split())[:300],
        "source": source[0][:120] if source else "",
    }


def imported_modules(notebook: Any) -> set[str]:
    """Top-level modules the code cells import (magics turned into Python first)."""
    transform = TransformerManager().transform_cell
    found: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(transform("".join(cell.source)))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names)


def distributions(modules: set[str]) -> dict[str, str]:
    """The installed distributions that provide those modules, with their versions."""
    providers = importlib.metadata.packages_distributions()
    used: dict[str, str] = {}
    for module in sorted(modules):
        for name in providers.get(module, []):
            try:
                used[name.lower().replace("_", "-")] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
    return dict(sorted(used.items()))


if __name__ == "__main__":
    main()
