#!/usr/bin/env python3
"""Docker HEALTHCHECK: healthy when a running Jupyter server of this container answers <url>api.

The check runs as the image's user (or the --user given to docker run), which need not be the
user the server runs as (start.sh may have renamed it or moved its home), so every runtime dir a
server may use is searched. Proxy variables are ignored: the server is local.
"""

import glob
import json
import os
import ssl
import sys
import urllib.request

RUNTIME_GLOBS = [
    "{runtime}/jpserver-*.json",
    "{home}/.local/share/jupyter/runtime/jpserver-*.json",
    "/home/*/.local/share/jupyter/runtime/jpserver-*.json",
    "/tmp/*/.local/share/jupyter/runtime/jpserver-*.json",
    "/root/.local/share/jupyter/runtime/jpserver-*.json",
]


def server_infos():
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or "/nonexistent"
    home = os.path.expanduser("~")
    seen = set()
    for pattern in RUNTIME_GLOBS:
        for path in glob.glob(pattern.format(runtime=runtime, home=home)):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            try:
                with open(real, encoding="utf-8") as file:
                    info = json.load(file)
            except (OSError, ValueError):
                continue
            if process_alive(info.get("pid")):
                yield info


def process_alive(pid) -> bool:
    # Stale files survive a killed server; the pid tells whether it is still there.
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def check(info) -> bool:
    if info.get("sock"):
        return False
    scheme = "https" if info.get("secure") else "http"
    base_url = "/" + info.get("base_url", "/").strip("/") + "/"
    url = f"{scheme}://127.0.0.1:{info['port']}{base_url.replace('//', '/')}api"
    handlers = [urllib.request.ProxyHandler({})]
    if scheme == "https":
        # The certificate names the public host, not 127.0.0.1.
        handlers.append(urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))  # noqa: S323
    try:
        with urllib.request.build_opener(*handlers).open(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    infos = list(server_infos())
    if not infos:
        print("no running Jupyter server found", file=sys.stderr)
        return 1
    for info in infos:
        if check(info):
            return 0
    print("no Jupyter server answered its /api", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
