#!/usr/bin/env python3
"""Start the Jupyter server (docker-stacks contract).

Hub-spawned (JUPYTERHUB_API_TOKEN set): hand over to start-singleuser.py. Otherwise run
`jupyter ${DOCKER_STACKS_JUPYTER_CMD:-lab}` with NOTEBOOK_ARGS and our arguments; with
RESTARTABLE=yes the server is started again whenever it exits.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

TRUE = {"1", "yes", "true", "y", "on"}


def log(message: str) -> None:
    print(f"start-notebook.py: {message}", file=sys.stderr, flush=True)


def server_command() -> list[str]:
    subcommand = os.environ.get("DOCKER_STACKS_JUPYTER_CMD", "lab") or "lab"
    args = [*shlex.split(os.environ.get("NOTEBOOK_ARGS", "")), *sys.argv[1:]]
    # `jupyter lab` only looks up and execs `jupyter-lab`; calling it directly saves one Python
    # start-up (~0.2 s) and keeps the server as the process started here.
    direct = shutil.which(f"jupyter-{subcommand}")
    if direct:
        return [direct, *args]
    return ["jupyter", subcommand, *args]


def run_restartable(command: list[str]) -> int:
    child: subprocess.Popen | None = None
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return code
        log(f"server exited with code {code}; restarting it (RESTARTABLE=yes)")
        # Avoids a busy loop when the server cannot start at all.
        time.sleep(1)


def main() -> None:
    if os.environ.get("JUPYTERHUB_API_TOKEN"):
        os.execvp("start-singleuser.py", ["start-singleuser.py", *sys.argv[1:]])  # noqa: S606
    command = server_command()
    if os.environ.get("RESTARTABLE", "").lower() in TRUE:
        sys.exit(run_restartable(command))
    os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell


if __name__ == "__main__":
    main()
