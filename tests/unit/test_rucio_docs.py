"""The admin documentation of the rucio stack (images/rucio/README.md) against the real thing:
its spawner profiles loaded into the real KubeSpawner (no cluster), and every RUCIO_* variable
it sets one that rucio-configure reads."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubespawner import KubeSpawner
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "images" / "rucio" / "README.md").read_text()
CONFIGURE = (REPO / "images" / "rucio" / "rucio-configure").read_text()
USER = "ada"


def code_block(language: str) -> str:
    (block,) = re.findall(rf"^```{language}\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
    return block


PROFILES = yaml.safe_load(code_block("yaml"))["singleuser"]["profileList"]


pytestmark = pytest.mark.usefixtures("offline_kubeconfig")


def spawned(slug: str, config: Config | None = None) -> tuple[KubeSpawner, Any]:
    """The spawner after the user chose the profile `slug`, and the pod it would make."""

    async def choose() -> tuple[KubeSpawner, Any]:
        spawner = KubeSpawner(_mock=True, profile_list=PROFILES, config=config or Config())
        spawner.user.name = USER
        spawner.user_options = {"profile": slug}
        await spawner.load_user_options()
        return spawner, await spawner.get_pod_manifest()

    return asyncio.run(choose())


def pod_env(pod: Any) -> dict[str, Any]:
    return {
        e.name: e.value if e.value is not None else e.value_from for e in pod.spec.containers[0].env
    }


@pytest.mark.parametrize("slug", [p["slug"] for p in PROFILES])
def test_each_profile_sets_only_variables_rucio_configure_reads(slug: str) -> None:
    _, pod = spawned(slug)
    env = pod_env(pod)
    rucio = {key for key in env if key.startswith("RUCIO_")}
    assert rucio, env
    assert {key for key in rucio if key not in CONFIGURE} == set()
    assert env["RUCIO_ACCOUNT"] == USER  # {username} expanded per user
    assert env["RUCIO_AUTH_TYPE"] in ("userpass", "oidc")
    mounts = {m.mount_path for m in pod.spec.containers[0].volume_mounts}
    assert {env[key] for key in ("RUCIO_CA_CERT", "RUCIO_CLIENT_PROXY") if key in env} <= {
        f"{mount}/{name}" for mount in mounts for name in ("ca-bundle.pem", "x509up")
    }


def test_the_password_comes_from_the_users_secret_as_a_file() -> None:
    _, pod = spawned("sdc1-rucio-userpass")
    env = pod_env(pod)
    assert "RUCIO_PASSWORD" not in env  # a variable would show in the pod's spec
    volumes = {v.name: v for v in pod.spec.volumes}
    assert volumes["rucio-secrets"].secret["secretName"] == f"rucio-{USER}"
    mounts = {m.name: m.mount_path for m in pod.spec.containers[0].volume_mounts}
    assert env["RUCIO_PASSWORD_FILE"] == f"{mounts['rucio-secrets']}/password"


def test_the_oidc_profile_holds_no_secret() -> None:
    _, pod = spawned("sdc1-rucio-oidc")
    env = pod_env(pod)
    assert env["RUCIO_AUTH_TYPE"] == "oidc"
    assert not {"RUCIO_PASSWORD", "RUCIO_PASSWORD_FILE", "RUCIO_ACCESS_TOKEN"} & set(env)
    assert not [v for v in pod.spec.volumes if getattr(v, "secret", None)]
