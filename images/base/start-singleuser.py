#!/usr/bin/env python3
"""Start a JupyterHub single-user server, with NOTEBOOK_ARGS (docker-stacks contract).

The command is printed to stdout first, as `Executing: ...`, the line docker-stacks prints.
"""

import os
import shlex
import sys

command = [
    "jupyterhub-singleuser",
    *shlex.split(os.environ.get("NOTEBOOK_ARGS", "")),
    *sys.argv[1:],
]
print("Executing: " + " ".join(command), flush=True)
os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell
