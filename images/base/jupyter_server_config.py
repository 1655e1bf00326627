"""System-wide Jupyter Server defaults of the SKA images (docker-stacks compatible)."""

import os
import subprocess
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

c = get_config()  # noqa: F821 - provided by the traitlets config loader

# Every interface, IPv4 and IPv6 ("" = all, as docker-stacks); token auth stays on (a random
# token is generated unless one is configured).
c.ServerApp.ip = ""
c.ServerApp.port = int(os.environ.get("JUPYTER_PORT") or 8888)
c.ServerApp.open_browser = False
c.ServerApp.root_dir = os.path.expanduser("~")

# Installing extensions from the UI needs PyPI, which hub nodes often cannot reach: the
# extension manager only lists what is installed (`pip install` in a terminal works).
c.LabApp.extension_manager = "readonly"

# GEN_CERT (any value): serve HTTPS with a self-signed certificate, made once per home with
# Debian's openssl (RSA 2048, key and certificate in one file only the user can read).
if "GEN_CERT" in os.environ:
    pem = Path(jupyter_data_dir()) / "notebook.pem"
    if not pem.is_file():
        pem.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "365",
                "-subj",
                "/CN=generated",
                "-keyout",
                str(pem),
                "-out",
                str(pem),
            ],
            check=True,
            capture_output=True,
        )
    pem.chmod(0o600)
    c.ServerApp.certfile = str(pem)
