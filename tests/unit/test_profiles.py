"""Spawner profiles, loaded into the real KubeSpawner and DockerSpawner (no cluster, no engine)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dockerspawner import DockerSpawner
from kubespawner import KubeSpawner
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

from hubimages.core.ports import free_port
from hubimages.errors import HubImagesError
from hubimages.model.load import load_matrix
from hubimages.publish.profiles import render_dockerspawner, render_z2jh, write_profiles
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.trust.spawn import SpawnTrust

from .conftest import write_matrix

TAG = "2026-11-24-abc1234"
OLD = "python-3.9-2026-11-24-abc1234"  # the second variant's tag of the same build run
TRUST = SpawnTrust(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def write_dockerspawner(matrix, releases, path: Path) -> None:
    """The configuration and the verifier its hook loads from beside it."""
    path.write_text(render_dockerspawner(matrix, releases, TRUST))
    TRUST.write_verifier(path.parent)


def published(name: str, letter: str, hub: str = "5.5.4", tag: str = TAG) -> PublishedImage:
    return PublishedImage(
        name=name,
        repository=f"127.0.0.1:5000/ska/{name}",
        tag=tag,
        digest="sha256:" + letter * 64,
        image_id="sha256:" + "0" * 64,
        jupyterhub=hub,
        jupyterlab="4.6.6",
    )


def release_of(*images: PublishedImage, variant: str = "bookworm") -> dict[str, Release]:
    """One variant's release, as write_profiles takes it."""
    release = Release(
        tag=images[0].tag if images else TAG,
        registry="127.0.0.1:5000/ska",
        created="2026-11-24T00:00:00Z",
        revision="abc1234" + "0" * 33,
        images=images,
        variant=variant,
    )
    return {variant: release}


@pytest.fixture
def matrix(matrix_file: Path):
    return load_matrix(matrix_file)


@pytest.fixture
def releases() -> dict[str, Release]:
    return release_of(published("c", "c"), published("base", "b"), published("a", "a", "5.4.0"))


@pytest.fixture
def release(releases: dict[str, Release]) -> Release:
    return releases["bookworm"]


pytestmark = pytest.mark.usefixtures("offline_kubeconfig")


def profile_list(text: str) -> list[dict]:
    return yaml.safe_load(text)["singleuser"]["profileList"]


def kube_image(profiles: list[dict], slug: str | None, variant: str | None = None) -> str:
    """What KubeSpawner itself makes of a user's choice, as JupyterHub hands it over."""

    async def choose() -> str:
        # Created inside an event loop, like the hub does: its API client binds to the loop.
        spawner = KubeSpawner(_mock=True, profile_list=profiles)
        form = {"profile": [slug]} if slug else {}
        if slug and variant:
            form[f"profile-option-{slug}--variant"] = [variant]
        spawner.user_options = spawner.options_from_form(form) if form else {}
        await spawner.load_user_options()
        return spawner.image

    return asyncio.run(choose())


def test_kubespawner_selects_each_pinned_image(matrix, releases, release) -> None:
    profiles = profile_list(render_z2jh(matrix, releases))
    assert [p["slug"] for p in profiles] == ["base", "a", "c"]  # matrix order, b not released
    for profile in profiles:
        image = release.image(profile["slug"])
        assert kube_image(profiles, profile["slug"]) == image.pinned
        assert image.pinned.endswith(f":{TAG}@{image.digest}")
    assert kube_image(profiles, None) == release.image("base").pinned  # the default


def test_kubespawner_rejects_an_unknown_profile(matrix, releases) -> None:
    profiles = profile_list(render_z2jh(matrix, releases))
    with pytest.raises(ValueError, match="nope"):
        kube_image(profiles, "nope")


def test_matrix_default_is_the_default_profile(matrix_data, tmp_path, releases, release) -> None:
    matrix_data["images"]["c"]["default"] = True
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    profiles = profile_list(render_z2jh(matrix, releases))
    assert [p["slug"] for p in profiles if p.get("default")] == ["c"]
    assert kube_image(profiles, None) == release.image("c").pinned


def test_each_choice_states_its_hub_version(matrix, releases) -> None:
    profiles = {p["slug"]: p for p in profile_list(render_z2jh(matrix, releases))}
    [choice] = profiles["a"]["profile_options"]["variant"]["choices"].values()
    assert choice["display_name"] == (
        "Python 3.11, Debian bookworm · JupyterHub 5.4.0, JupyterLab 4.6.6"
    )
    assert profiles["a"]["description"] == "d"


@pytest.fixture
def two_variants(matrix_data, tmp_path):
    """The matrix with a second variant, which does not build c; its release of base and a."""
    matrix_data["variants"]["old"] = {
        "debian": "oldstable",
        "python": "3.9",
        "glibc": "2.31",
        "exclude": {"c": "not for Python 3.9"},
    }
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    older = release_of(
        published("a", "e", tag=OLD), published("base", "f", "5.4.0", tag=OLD), variant="old"
    )
    return matrix, older


def test_the_variant_is_a_choice_inside_each_profile(two_variants, releases, release) -> None:
    matrix, older = two_variants
    both = {**releases, **older}
    profiles = profile_list(render_z2jh(matrix, both))
    assert [p["slug"] for p in profiles] == ["base", "a", "c"]  # still one per image
    base = profiles[0]["profile_options"]["variant"]
    assert base["display_name"] == "Python and Debian"
    assert list(base["choices"]) == ["bookworm", "old"]  # the default variant first
    assert base["choices"]["bookworm"]["default"] is True
    assert "default" not in base["choices"]["old"]
    assert base["choices"]["old"]["display_name"].startswith("Python 3.9, Debian oldstable")
    assert list(profiles[2]["profile_options"]["variant"]["choices"]) == ["bookworm"]
    for slug in ("base", "a"):
        assert kube_image(profiles, slug) == release.image(slug).pinned  # default preselected
        assert kube_image(profiles, slug, "bookworm") == release.image(slug).pinned
        assert kube_image(profiles, slug, "old") == older["old"].image(slug).pinned
        assert kube_image(profiles, slug, "old").endswith(
            f":{OLD}@" + older["old"].image(slug).digest
        )
    with pytest.raises((ValueError, KeyError), match="old"):
        kube_image(profiles, "c", "old")  # excluded: not offered, KubeSpawner refuses it


def test_dockerspawner_offers_the_same_variants(two_variants, releases, tmp_path) -> None:
    matrix, older = two_variants
    both = {**releases, **older}
    write_profiles(matrix, both, tmp_path, TRUST)
    spawner = load_dockerspawner(tmp_path / "dockerspawner_config.py")
    allowed = spawner._get_allowed_images()
    assert len(allowed) == 5  # base and a in both variants, c in one
    assert spawner.image == both["bookworm"].image("base").pinned
    parser = FormValues()
    parser.feed(spawner.options_form)
    assert parser.values == list(allowed)  # the form offers exactly the allowed choices
    assert parser.checked == [parser.values[0]]  # the default image in the default variant
    for label in parser.values:
        variant = "old" if "Python 3.9" in label else "bookworm"
        name = next(n for n in ("base", "a", "c") if matrix.images[n].display_name in label)
        options = spawner.options_from_form({"image": [label]})
        image = both[variant].image(name)
        assert image is not None
        assert asyncio.run(spawner.check_allowed(options["image"])) == image.pinned
    header = (tmp_path / "z2jh-values.yaml").read_text()
    assert f"#   bookworm: {TAG}" in header and f"#   old: {OLD}" in header


def test_the_verifying_hook_checks_the_chosen_variants_own_image(
    two_variants, releases, tmp_path
) -> None:
    """Each label of the form, in every variant, reaches the hook `invoke profiles` writes as
    that variant's own pinned image: the hook verifies that one (here: a registry nobody
    serves, so each is refused naming its own tag) before anything is pulled."""
    matrix, older = two_variants
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    both = {
        variant: replace(
            release,
            images=tuple(
                replace(i, repository=i.repository.replace("127.0.0.1:5000", closed))
                for i in release.images
            ),
        )
        for variant, release in {**releases, **older}.items()
    }
    write_profiles(matrix, both, tmp_path, TRUST)
    spawner = load_dockerspawner(tmp_path / "dockerspawner_config.py")
    allowed = spawner._get_allowed_images()
    assert {ref.split("@")[0].rsplit(":", 1)[1] for ref in allowed.values()} == {TAG, OLD}
    for label, pinned in allowed.items():
        spawner.user_options = spawner.options_from_form({"image": [label]})
        with pytest.raises(web.HTTPError) as refused:
            asyncio.run(spawner.pre_spawn_hook(spawner))
        message = refused.value.jupyterhub_message  # type: ignore[attr-defined]
        assert message.startswith(f"{pinned.split('@')[0]} is refused: registry "), message


def load_dockerspawner(path: Path) -> DockerSpawner:
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    # The hub hands every spawner its user; the form and the choice only need the name.
    return DockerSpawner(config=config, user=SimpleNamespace(name="admin", id=1))


def test_dockerspawner_loads_the_same_choices(matrix, releases, release, tmp_path) -> None:
    paths = write_profiles(matrix, releases, tmp_path, TRUST)
    assert [p.name for p in paths] == [
        "hubimages_verify",
        "z2jh-values.yaml",
        "dockerspawner_config.py",
        "containers-policy.json",
        "hubimages.yaml",
    ]
    spawner = load_dockerspawner(tmp_path / "dockerspawner_config.py")
    allowed = spawner._get_allowed_images()
    assert list(allowed.values()) == [release.image(n).pinned for n in ("base", "a", "c")]
    assert spawner.image == release.image("base").pinned
    assert "JupyterHub 5.4.0" in next(
        label for label, ref in allowed.items() if ref == release.image("a").pinned
    )
    # The form offers each label; the choice goes through DockerSpawner's own resolution.
    form = spawner.options_form
    for label, ref in allowed.items():
        assert f'value="{label}"' in form
        options = spawner.options_from_form({"image": [label]})
        assert asyncio.run(spawner.check_allowed(options["image"])) == ref
    with pytest.raises(web.HTTPError):
        asyncio.run(spawner.check_allowed("someone/else:latest"))


def test_odd_display_names_round_trip(matrix_data, tmp_path, releases) -> None:
    odd = 'Base: "quoted" # not a comment\n\\ and {braces}'
    matrix_data["images"]["base"]["display_name"] = odd
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    assert profile_list(render_z2jh(matrix, releases))[0]["display_name"] == odd
    path = tmp_path / "dockerspawner_config.py"
    write_dockerspawner(matrix, releases, path)
    labels = list(load_dockerspawner(path)._get_allowed_images())
    assert labels[0].startswith(odd)


def test_release_without_matrix_images_is_an_error(matrix, tmp_path) -> None:
    with pytest.raises(HubImagesError, match=f"release {TAG} has no image of build-matrix"):
        write_profiles(matrix, release_of(published("elsewhere", "e")), tmp_path / "out", TRUST)
    assert not (tmp_path / "out").exists()


class FormValues(HTMLParser):
    """The values a browser would post from the form's radio buttons, and the checked ones."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []
        self.checked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "image":
            self.values.append(found["value"])
            if "checked" in found:
                self.checked.append(found["value"])


def test_the_profile_form_shows_names_and_descriptions(
    matrix_data, tmp_path, releases, release
) -> None:
    odd = 'Base <b>& "friends"</b>'
    matrix_data["images"]["base"]["display_name"] = odd
    matrix_data["images"]["a"]["description"] = "Astronomy & <friends>."
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    path = tmp_path / "dockerspawner_config.py"
    write_dockerspawner(matrix, releases, path)
    spawner = load_dockerspawner(path)
    form = spawner.options_form
    assert "<b>&" not in form and "Base &lt;b&gt;&amp; &quot;friends&quot;" in form
    assert "Astronomy &amp; &lt;friends&gt;." in form
    assert "Python 3.11, Debian bookworm · JupyterHub 5.4.0, JupyterLab 4.6.6" in form
    parser = FormValues()
    parser.feed(form)
    assert len(parser.values) == 3
    for value, name in zip(parser.values, ("base", "a", "c"), strict=True):
        options = spawner.options_from_form({"image": [value]})
        assert asyncio.run(spawner.check_allowed(options["image"])) == release.image(name).pinned
    assert spawner.pull_policy == "ifnotpresent"


def test_z2jh_pulls_the_profiles_images_once(matrix, releases, release) -> None:
    values = yaml.safe_load(render_z2jh(matrix, releases))
    image = values["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == release.image("base").pinned  # chart's join
    assert image["pullPolicy"] == "IfNotPresent"
    assert values["prePuller"] == {
        "pullProfileListImages": True,
        "hook": {"enabled": True},
        "continuous": {"enabled": True},
    }


RESOURCES = {
    "cpu_guarantee": 0.5,
    "cpu_limit": 2,
    "mem_guarantee": "1G",
    "mem_limit": "4G",
    "pids_limit": 321,
}


def test_each_profile_carries_its_resources_and_privileges(
    matrix_data, tmp_path, releases, release
) -> None:
    matrix_data["images"]["a"]["resources"] = RESOURCES
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    profiles = profile_list(render_z2jh(matrix, releases))

    async def kube(slug: str) -> KubeSpawner:
        spawner = KubeSpawner(_mock=True, profile_list=profiles)
        spawner.user_options = {"profile": slug}
        await spawner.load_user_options()
        return spawner

    chosen = asyncio.run(kube("a"))
    assert (chosen.cpu_guarantee, chosen.cpu_limit) == (0.5, 2.0)
    assert (chosen.mem_guarantee, chosen.mem_limit) == (1 << 30, 4 << 30)
    assert chosen.allow_privilege_escalation is False
    assert chosen.container_security_context["capabilities"] == {"drop": ["ALL"]}
    assert asyncio.run(kube("base")).mem_limit is None  # declared for "a" only

    write_profiles(matrix, releases, tmp_path, TRUST)
    spawner = load_dockerspawner(tmp_path / "dockerspawner_config.py")
    spawner.image = release.image("a").pinned  # as DockerSpawner resolves the choice
    host = spawner._eval_if_callable(spawner.extra_host_config)
    assert host == {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": 4 << 30,
        "mem_reservation": 1 << 30,
        "cpu_period": 100_000,
        "cpu_quota": 200_000,
        "cpu_shares": 512,
        "pids_limit": 321,
    }
    spawner.image = release.image("base").pinned
    assert spawner._eval_if_callable(spawner.extra_host_config) == {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
    }
