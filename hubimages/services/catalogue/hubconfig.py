"""The jupyterhub_config.py lines that run the catalogue and the workflows' git server as the
hub's own services (started and stopped with it), let users reach the catalogue through the
hub's login, and give each user one named server per environment (what launch links start)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from hubimages.core.ports import free_port

SERVICE = "catalogue"
GIT_SERVICE = "workflow-git"


class Access(Enum):
    PUBLIC = "public"  # anyone who reaches the hub may list and query
    LOGIN = "login"  # only users logged in to the hub


@dataclass(frozen=True)
class CatalogueService:
    document: Path  # catalogue.json of `invoke catalogue`
    repositories: Path  # the workflows' bare repositories, served read-only
    access: Access = Access.PUBLIC
    # The git server's port on the hub's address: the hub's firewall lets sessions reach it
    # (LocalHub.open_ports), so it is chosen before the hub starts.
    git_port: int = field(default_factory=free_port)
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # workflows' data folders

    def config(self) -> str:
        """Lines for after c.JupyterHub.hub_ip is set: the git server listens there, where
        user servers reach the hub."""
        python = sys.executable
        return f"""
# The workflow catalogue (docs/workflows.md): /services/{SERVICE}/, and the read-only git server
# its launch links clone from (on the hub's address on the user servers' network).
from hubimages.core.ports import free_port as _free_port

_git_address = c.JupyterHub.hub_ip
_git_port = {self.git_port}
_catalogue_port = _free_port()
c.JupyterHub.services.append({{
    "name": "{SERVICE}",
    "url": f"http://127.0.0.1:{{_catalogue_port}}",
    "command": [{python!r}, "-m", "hubimages.services.catalogue.app",
                "--document", {str(self.document)!r}, "--port", str(_catalogue_port),
                "--access", {self.access.value!r},
                "--git-url", f"http://{{_git_address}}:{{_git_port}}"],
    "oauth_no_confirm": True,
    "display": True,
}})
c.JupyterHub.services.append({{
    "name": "{GIT_SERVICE}",
    "command": [{python!r}, "-m", "hubimages.services.gitserver",
                "--root", {str(self.repositories)!r},
                "--host", _git_address, "--port", str(_git_port)],
}})
# Users may open the catalogue through the hub's login (and a launch always needs it).
c.JupyterHub.load_roles.append(
    {{"name": "user", "scopes": ["self", "access:services!service={SERVICE}"]}}
)
# A launch starts the user's server of the workflow's environment, beside any other.
c.JupyterHub.allow_named_servers = True
# The workflows' data folders, read-only where they declare them.
c.DockerSpawner.volumes.update({self.volumes!r})
"""
