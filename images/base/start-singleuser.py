#!/usr/bin/env python3
"""Start a JupyterHub single-user server, with NOTEBOOK_ARGS (docker-stacks contract)."""

import os
import shlex
import sys

command = [
    "jupyterhub-singleuser",
    *shlex.split(os.environ.get("NOTEBOOK_ARGS", "")),
    *sys.argv[1:],
]
os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell
