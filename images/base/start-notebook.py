#!/usr/bin/env python3
"""Start the Jupyter server (docker-stacks contract).

Hub-spawned (JUPYTERHUB_API_TOKEN set): hand over to start-singleuser.py. Otherwise run
`jupyter ${DOCKER_STACKS_JUPYTER_CMD:-lab}` with NOTEBOOK_ARGS and our arguments, prefixed by
`run-one-constantly` when RESTARTABLE=yes. The command is printed to stdout first, as
`Executing: ...`, the line docker-stacks prints.
"""

import os
import shlex
import shutil
import sys

if os.environ.get("JUPYTERHUB_API_TOKEN"):
    print(
        "WARNING: using start-singleuser.py instead of start-notebook.py to start a server"
        " associated with JupyterHub.",
        flush=True,
    )
    os.execvp("start-singleuser.py", ["start-singleuser.py", *sys.argv[1:]])  # noqa: S606

subcommand = os.environ.get("DOCKER_STACKS_JUPYTER_CMD") or "lab"
# `jupyter lab` only looks up `jupyter-lab` on PATH and execs it: running that directly saves a
# Python start (~0.2 s) and is the same program with the same arguments.
program = shutil.which(f"jupyter-{subcommand}")
if program is None:
    # NbClassic is left out on purpose (README.md): its 40 MB would take base over its budget.
    print(
        f"ERROR: DOCKER_STACKS_JUPYTER_CMD={subcommand}: no jupyter-{subcommand} in this image;"
        " use lab, notebook (Notebook 7, the successor of NbClassic) or server",
        file=sys.stderr,
        flush=True,
    )
    sys.exit(1)

args = [*shlex.split(os.environ.get("NOTEBOOK_ARGS", "")), *sys.argv[1:]]
restart = (
    ["run-one-constantly"]
    if os.environ.get("RESTARTABLE", "").lower() in {"1", "yes", "true", "y", "on"}
    else []
)
print("Executing: " + " ".join([*restart, "jupyter", subcommand, *args]), flush=True)
command = [*restart, program, *args]
os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell
