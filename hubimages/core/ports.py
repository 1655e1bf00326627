"""A free TCP port for a service this tool starts."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now (the OS picks it; the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on `port` on `host` now. Servers (node, Go, tornado,
    Apache) set SO_REUSEADDR, and so does this check: the connections of a server just
    stopped, in TIME_WAIT for a minute, do not keep the next one from listening."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
