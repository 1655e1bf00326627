"""What a hub runs before each spawn: the DockerSpawner pre-spawn hook that verifies the chosen
pinned image (publish.trust.verification, copied beside the configuration as hubimages_verify/)
and only then pulls it.

A refusal ends the spawn with one line that JupyterHub shows on the spawn page (it shows an
exception's `jupyterhub_message`); the hub's log names the image and the reason too.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.files import write_atomically
from hubimages.publish.trust import verification

VERIFIER_FILE = "hubimages_verify"  # the verifier package, beside dockerspawner_config.py

HOOK = '''
import asyncio
import importlib.util
import os
import sys

import docker.auth
import docker.errors
from tornado import web


def _load_verifier():
    """The package hubimages_verify/, written beside this file by `invoke profiles`."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{verifier}")
    spec = importlib.util.spec_from_file_location(
        "hubimages_verify", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["hubimages_verify"] = module
    spec.loader.exec_module(module)
    return module


hubimages_verify = _load_verifier()
# The site's public key: images must be signed by it, with their SBOM, provenance and audit.
SITE_KEY = {key}
# Whether images must have passed the release gates (container tests, vulnerability audit).
REQUIRE_GATES = {require_gates}


class ImageRefused(web.HTTPError):
    """The spawn page shows its jupyterhub_message (JupyterHub passes HTTP errors through
    to the form; any other exception becomes "Unhandled error starting server")."""

    def __init__(self, message):
        super().__init__(403, "%s", message)
        self.jupyterhub_message = message


def _reader(host):
    """The registry as the engine's docker config logs in to it (anonymous without an entry)."""
    found = docker.auth.load_config().resolve_authconfig(host) or {{}}
    return hubimages_verify.RegistryReader(
        host,
        found.get("username") or found.get("Username") or "",
        found.get("password") or found.get("Password") or "",
    )


async def verify_and_pull(spawner):
    """Refuse the chosen image unless the site key signed it; pull it by digest if missing."""
    chosen = spawner.user_options.get("image")
    allowed = spawner.allowed_images if isinstance(spawner.allowed_images, dict) else {{}}
    pinned = allowed.get(chosen, spawner.image)
    if "@" not in pinned:
        raise ImageRefused(f"{{pinned}} is refused: not pinned by digest")
    host = pinned.split("/", 1)[0]
    verdict = await asyncio.get_running_loop().run_in_executor(
        None, lambda: hubimages_verify.verify(pinned, SITE_KEY, _reader(host), REQUIRE_GATES)
    )
    if not verdict.ok:
        spawner.log.warning("refused %s: %s", pinned, verdict.problem)
        raise ImageRefused(f"{{pinned.split('@')[0]}} is refused: {{verdict.problem}}")
    spawner.log.info("verified %s (key %s)", pinned, verdict.key[:16])
    try:
        await spawner.docker("inspect_image", pinned)
    except docker.errors.NotFound:
        name_and_tag, digest = pinned.split("@", 1)
        spawner.log.info("pulling %s", pinned)
        await spawner.docker("pull", name_and_tag.rsplit(":", 1)[0], tag=digest)


pull_pinned_image = verify_and_pull  # the name earlier configurations call
c.Spawner.pre_spawn_hook = verify_and_pull
'''


@dataclass(frozen=True)
class SpawnTrust:
    public_key: str  # PEM of the site's public key
    require_gates: bool = True  # False only for `invoke e2e`'s throwaway registry

    def hook(self) -> str:
        return HOOK.format(
            verifier=VERIFIER_FILE,
            key=json.dumps(self.public_key),
            require_gates=self.require_gates,
        )

    def write_verifier(self, folder: Path) -> Path:
        """The verifier's package, as it is, beside the configuration that loads it."""
        target = folder / VERIFIER_FILE
        for module in sorted(Path(verification.__file__).parent.glob("*.py")):
            write_atomically(target / module.name, module.read_text())
        return target


def node_policy(public_key: str, scope: str) -> dict[str, object]:
    """containers-policy.json for nodes that pull with containers/image (podman, CRI-O, skopeo):
    images under `scope` (host/namespace) need the site key's signature, nothing else is
    pulled from registries."""
    requirement = {
        "type": "sigstoreSigned",
        "keyData": base64.b64encode(public_key.encode()).decode(),
        "signedIdentity": {"type": "matchRepository"},
    }
    return {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {scope: [requirement]},
            "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]},
        },
    }


def registries_d(host: str) -> str:
    """containers-registries.d: read signatures from the attachment tags of that registry."""
    return f"docker:\n  {host}:\n    use-sigstore-attachments: true\n"
