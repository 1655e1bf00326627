"""Fixtures to run one-off containers of the image under test (docker SDK), with the SDC1 sample
data mounted read-only at /data/sdc1. ``image`` and ``docker_client`` come from
tests/containers/conftest.py (the image is chosen with --image-ref / IMAGE_REF)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

DATA_MOUNT = "/data/sdc1"
RunFn = Callable[..., tuple[int, str]]


def _data_dir() -> Path:
    env = os.environ.get("SDC1_DATA")
    repo = Path(__file__).resolve().parents[2]
    path = Path(env) if env else repo / ".." / "shared" / "data" / "sdc1"
    return path.resolve()


@pytest.fixture(scope="session")
def sdc1_data() -> Path:
    path = _data_dir()
    if not (path / "B1_1000h_0.05tr.fits").is_file():
        # Missing data is a broken checkout, not a reason to pass: fail loudly.
        pytest.fail(f"SDC1 sample data not found at {path} (set SDC1_DATA)")
    return path


@pytest.fixture(scope="session")
def run_container(docker_client, image, sdc1_data: Path) -> RunFn:  # type: ignore[no-untyped-def]
    """``run(command, mounts={host: container}, user='jovyan', timeout=900) -> (rc, logs)``.

    Every container is removed afterwards, whatever happens. The SDC1 data folder is always
    mounted read-only at /data/sdc1 and ``SDC1_DATA`` points there; extra ``mounts`` are
    read-only too. The working directory is /tmp.
    """

    def run(
        command: list[str],
        mounts: dict[Path, str] | None = None,
        user: str = "jovyan",
        timeout: int = 900,
        env: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        volumes = {str(sdc1_data): {"bind": DATA_MOUNT, "mode": "ro"}}
        for host, target in (mounts or {}).items():
            volumes[str(Path(host).resolve())] = {"bind": target, "mode": "ro"}
        container = docker_client.containers.run(
            image.id,
            command,
            user=user,
            volumes=volumes,
            working_dir="/tmp",
            detach=True,
            environment={"SDC1_DATA": DATA_MOUNT, "MPLBACKEND": "Agg", **(env or {})},
        )
        try:
            rc = int(container.wait(timeout=timeout)["StatusCode"])
            logs = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        return rc, logs

    return run
