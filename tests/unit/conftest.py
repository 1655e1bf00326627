"""Fixtures for unit tests: a small valid matrix in a temporary folder, to break in many ways."""

from __future__ import annotations

from pathlib import Path

import kubernetes_asyncio.config.kube_config
import pytest
import yaml

VALID = {
    "settings": {
        "namespace": "test",
        "platform": "linux/amd64",
        "debian": {"mirror": "http://deb.debian.org/debian"},
    },
    "variants": {
        "bookworm": {"default": True, "debian": "bookworm", "python": "3.11", "glibc": "2.36"},
    },
    "images": {
        "base": {"source": "bootstrap", "display_name": "Base", "description": "d"},
        "a": {"parent": "base", "display_name": "A", "description": "d"},
        "b": {"parent": "base", "display_name": "B", "description": "d"},
        "c": {"parent": "a", "stacks": ["b"], "display_name": "C", "description": "d"},
    },
}


def write_matrix(root: Path, data: dict) -> Path:
    for name in data.get("images", {}) or {}:
        folder = root / "images" / str(name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Dockerfile").write_text("ARG PARENT_IMAGE\nFROM ${PARENT_IMAGE}\n")
    path = root / "build-matrix.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def matrix_data() -> dict:
    import copy

    return copy.deepcopy(VALID)


@pytest.fixture
def matrix_file(tmp_path: Path, matrix_data: dict) -> Path:
    return write_matrix(tmp_path, matrix_data)


@pytest.fixture
def offline_kubeconfig(tmp_path_factory, monkeypatch) -> None:
    """KubeSpawner reads a kube config when created; this one names a cluster never contacted."""
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "offline",
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:9"}}],
                "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "u"}}],
                "users": [{"name": "u", "user": {"token": "unused"}}],
            }
        )
    )
    # KUBECONFIG is read when kubernetes_asyncio is imported, before a fixture can set it.
    monkeypatch.setattr(
        kubernetes_asyncio.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path)
    )
