"""System-wide Jupyter Server defaults of the SKA images (docker-stacks compatible)."""

import os

c = get_config()  # noqa: F821 - provided by the traitlets config loader

# Reachable through the container's network namespace; token auth stays on (a random token is
# generated unless one is configured).
c.ServerApp.ip = "0.0.0.0"  # noqa: S104
c.ServerApp.port = int(os.environ.get("JUPYTER_PORT") or 8888)
c.ServerApp.open_browser = False
c.ServerApp.root_dir = os.path.expanduser("~")

# /opt/venv is root-owned and built from a lock: installing extensions from PyPI at run time
# cannot work, so the extension manager only lists what is installed.
c.LabApp.extension_manager = "readonly"
