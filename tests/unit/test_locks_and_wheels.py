"""Reading locks and choosing which locked file a build gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubimages.deps.index import IndexFile
from hubimages.deps.lockfile import LockedRequirement, read_lock
from hubimages.deps.wheelhouse import choose_wheel, target_tags
from hubimages.errors import HubImagesError
from hubimages.model.spec import DebianSettings, Settings

SETTINGS = Settings(
    namespace="t",
    python="3.11",
    platform="linux/amd64",
    debian=DebianSettings("bookworm", "http://deb.debian.org/debian"),
    glibc="2.36",
)
H1, H2, H3, H4 = ("1" * 64, "2" * 64, "3" * 64, "4" * 64)


def test_read_lock(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# header\n"
        f"numpy==2.4.1 \\\n    --hash=sha256:{H1} \\\n    --hash=sha256:{H2}\n"
        "    # via -r images/pybdsf/requirements.in\n"
        f"Jinja2==3.1.6 ; python_version >= '3' \\\n    --hash=sha256:{H3}\n"
    )
    entries = read_lock(lock).requirements
    assert [(e.name, e.version) for e in entries] == [("numpy", "2.4.1"), ("Jinja2", "3.1.6")]
    assert entries[0].hashes == {H1, H2}
    assert entries[1].normalized == "jinja2"


def test_unhashed_lock_rejected(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.4.1\n")
    with pytest.raises(HubImagesError, match=r"'numpy==2\.4\.1': not pinned with == and --hash"):
        read_lock(lock)


def _file(name: str, sha: str) -> IndexFile:
    return IndexFile(name, sha, f"https://files/{name}")


def test_choose_best_compatible_locked_wheel() -> None:
    req = LockedRequirement("numpy", "2.4.1", frozenset({H1, H2, H3, H4}))
    files = [
        _file("numpy-2.4.1.tar.gz", H1),
        _file("numpy-2.4.1-cp312-cp312-manylinux_2_17_x86_64.whl", H2),
        _file("numpy-2.4.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", H3),
        _file("numpy-2.4.1-cp311-cp311-manylinux_2_28_x86_64.whl", H4),
        _file("numpy-2.4.1-cp311-cp311-manylinux_2_40_x86_64.whl", "f" * 64),
    ]
    chosen = choose_wheel(req, files, target_tags(SETTINGS))
    assert chosen.filename == "numpy-2.4.1-cp311-cp311-manylinux_2_28_x86_64.whl"


def test_hash_not_in_lock_is_never_chosen() -> None:
    req = LockedRequirement("six", "1.17.0", frozenset({H1}))
    files = [_file("six-1.17.0-py2.py3-none-any.whl", H2)]
    with pytest.raises(
        HubImagesError,
        match=r"six==1\.17\.0: no locked hash matches a file "
        r"of version 1\.17\.0 on the index",
    ):
        choose_wheel(req, files, target_tags(SETTINGS))


def test_newer_glibc_than_bookworm_not_chosen() -> None:
    req = LockedRequirement("x", "1", frozenset({H1}))
    files = [_file("x-1-cp311-cp311-manylinux_2_39_x86_64.whl", H1)]
    with pytest.raises(HubImagesError, match="sdist-only"):
        choose_wheel(req, files, target_tags(SETTINGS))


def test_host_hub_matches_the_images_hub() -> None:
    """The publish tests run the images under a real hub of the version the images carry."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    pins = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
    [hub] = [p for p in pins if p.startswith("jupyterhub==")]
    locks = sorted((repo / "images/base").glob("requirements.*.lock"))
    assert locks  # one per variant
    for lock in locks:
        locked = read_lock(lock).versions()
        assert hub == f"jupyterhub=={locked['jupyterhub']}", lock.name


def test_a_locked_hash_of_another_version_is_refused_on_the_host() -> None:
    req = LockedRequirement("six", "1.17.0", frozenset({H1}))
    files = [_file("six-1.16.0-py2.py3-none-any.whl", H1)]
    with pytest.raises(
        HubImagesError,
        match=r"six==1\.17\.0: the locked hash .* is the file "
        r"six-1\.16\.0-py2\.py3-none-any\.whl, of version "
        r"1\.16\.0",
    ):
        choose_wheel(req, files, target_tags(SETTINGS))


def test_a_pin_the_index_does_not_have_is_named() -> None:
    req = LockedRequirement("six", "99.0.0", frozenset({H1}))
    files = [_file("six-1.17.0-py2.py3-none-any.whl", H2), _file("six-1.17.0.tar.gz", H3)]
    with pytest.raises(
        HubImagesError,
        match=r"six==99\.0\.0: the index has no file of version "
        r"99\.0\.0: fix the pin",
    ):
        choose_wheel(req, files, target_tags(SETTINGS))
