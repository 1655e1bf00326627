"""Spawner profiles of a release: what a hub admin pastes into the hub's configuration.

Two formats with the same choices, from build-matrix.yaml (names, descriptions, default image,
variants) and each variant's release's recorded digests: a Zero to JupyterHub values snippet
(KubeSpawner's profile_list, the variant a profile_options choice inside each image's profile)
and a DockerSpawner `allowed_images` snippet with a form that offers the same choices. Images
are pinned as name:tag@digest, so what runs is what was tested, while the tag keeps the
reference readable.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from hubimages.core.files import write_atomically
from hubimages.errors import HubImagesError
from hubimages.model.spec import ImageSpec, Matrix, Variant
from hubimages.publish.limits import dockerspawner_limits, kubespawner_limits
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.trust.spawn import VERIFIER_FILE, SpawnTrust, node_policy, registries_d

Z2JH_FILE = "z2jh-values.yaml"
DOCKERSPAWNER_FILE = "dockerspawner_config.py"
NODE_POLICY_FILE = "containers-policy.json"
REGISTRIES_D_FILE = "registries.d/hubimages.yaml"
VARIANT_OPTION = "variant"  # the profile option users choose the variant with
VARIANT_OPTION_NAME = "Python and Debian"


@dataclass(frozen=True)
class Choice:
    """One variant of an image, as released."""

    variant: Variant
    image: PublishedImage

    @property
    def text(self) -> str:
        """What users read: the variant, and the versions admins match their hub against."""
        versions = versions_text(self.image)
        return f"{self.variant.describe()} · {versions}" if versions else self.variant.describe()


@dataclass(frozen=True)
class Profile:
    """One image, with its variants (the default one first)."""

    spec: ImageSpec
    choices: tuple[Choice, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def default(self) -> Choice:
        return self.choices[0]


def offered(matrix: Matrix, releases: dict[str, Release]) -> list[Profile]:
    """Each released image in matrix order, the default one first; its variants in matrix
    order, the default variant first."""
    variants = sorted(
        (matrix.variants[name] for name in matrix.variants if name in releases),
        key=lambda v: not v.default,
    )
    profiles = []
    for name, spec in matrix.declared.items():
        choices = tuple(
            Choice(v, image) for v in variants if (image := releases[v.name].image(name))
        )
        if choices:
            profiles.append(Profile(spec, choices))
    if not profiles:
        tags = ", ".join(r.tag for r in releases.values()) or "none"
        raise HubImagesError(
            f"release {tags} has no image of build-matrix.yaml; "
            "release one first (`invoke release IMAGE --registry ...`)"
        )
    marked = [p.name for p in profiles if p.spec.default]
    default = marked[0] if marked else profiles[0].name
    return sorted(profiles, key=lambda p: p.name != default)


def versions_text(image: PublishedImage) -> str:
    parts = [
        f"JupyterHub {image.jupyterhub}" if image.jupyterhub else "",
        f"JupyterLab {image.jupyterlab}" if image.jupyterlab else "",
    ]
    return ", ".join(p for p in parts if p)


def header(releases: dict[str, Release], usage: str) -> str:
    registry = next(iter(releases.values())).registry
    lines = [
        f"Spawner profiles from {registry}, written by `invoke profiles`; per variant, its "
        "release (git revision):",
        *(
            f"  {variant}: {r.tag} ({r.revision[:12] or 'unknown'})"
            for variant, r in releases.items()
        ),
        "Each image is pinned by digest: what runs is what was tested.",
        usage,
    ]
    return "".join(f"# {line}\n" for line in lines)


def render_z2jh(matrix: Matrix, releases: dict[str, Release]) -> str:
    profiles = offered(matrix, releases)
    default = profiles[0].default.image
    values = {
        "singleuser": {
            # The chart pulls singleuser.image on every node whatever the profiles say: the default
            # profile's image, so nothing else is pulled. A digest never changes: IfNotPresent. The
            # chart joins name and tag with ":", so the tag carries the digest.
            "image": {
                "name": default.repository,
                "tag": f"{default.tag}@{default.digest}",
                "pullPolicy": "IfNotPresent",
            },
            "profileList": [z2jh_profile(p, p is profiles[0]) for p in profiles],
        },
        # Every profile's image on every node, before users ask (and on new nodes).
        "prePuller": {
            "pullProfileListImages": True,
            "hook": {"enabled": True},
            "continuous": {"enabled": True},
        },
    }
    usage = "Merge into your Zero to JupyterHub values: helm upgrade ... --values <this file>"
    body = yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=1000)
    return header(releases, usage) + body


def z2jh_profile(profile: Profile, default: bool) -> dict[str, object]:
    """One image's profile; its variants are the choices of its `variant` option."""
    entry: dict[str, object] = {
        "display_name": profile.spec.display_name,
        "description": profile.spec.description,
        "slug": profile.name,
    }
    if default:
        entry["default"] = True
    # The image's guarantees, limits and privileges hold in every variant; each choice of the
    # variant option adds its image (KubeSpawner applies the profile's override, then the
    # choice's).
    entry["kubespawner_override"] = kubespawner_limits(profile.spec.resources)
    choices: dict[str, object] = {}
    for choice in profile.choices:
        item: dict[str, object] = {"display_name": choice.text}
        if choice is profile.default:
            item["default"] = True
        item["kubespawner_override"] = {"image": choice.image.pinned}
        choices[choice.variant.name] = item
    entry["profile_options"] = {
        VARIANT_OPTION: {"display_name": VARIANT_OPTION_NAME, "choices": choices}
    }
    return entry


def choice_label(profile: Profile, choice: Choice) -> str:
    """DockerSpawner's allowed_images key of one image in one variant (what the form posts)."""
    return f"{profile.spec.display_name} · {choice.text}"


def spawn_query(profile: Profile, choice: Choice) -> dict[str, str]:
    """The form fields that choose one image in one variant, for either hub: DockerSpawner
    reads `image` (dockerspawner_config.py), KubeSpawner `profile` and its variant option
    (z2jh-values.yaml); each ignores the other's. A launch link passes them to the hub's spawn
    page as a query."""
    return {
        "image": choice_label(profile, choice),
        "profile": profile.name,
        f"profile-option-{profile.name}--{VARIANT_OPTION}": choice.variant.name,
    }


def choices_of(profiles: list[Profile]) -> dict[str, str]:
    """DockerSpawner's allowed_images: a label per image and variant -> image."""
    return {
        choice_label(profile, choice): choice.image.pinned
        for profile in profiles
        for choice in profile.choices
    }


def options_form(profiles: list[Profile]) -> str:
    """The profile form: each image's name and description, and inside it a choice of its
    variants; the default image's default variant checked."""
    rows = []
    for profile in profiles:
        name = html.escape(profile.spec.display_name)
        description = html.escape(profile.spec.description)
        rows.append(
            f'<div class="mb-3 hubimages-profile" id="profile-{profile.name}"><strong>{name}'
            f"</strong><br><small>{description}</small>"
        )
        for choice in profile.choices:
            ident = f"image-{profile.name}-{choice.variant.name}"
            checked = " checked" if choice is profiles[0].default else ""
            value = html.escape(choice_label(profile, choice))
            rows.append(
                f'<div class="form-check"><input class="form-check-input" type="radio" '
                f'name="image" id="{ident}" value="{value}"{checked}>'
                f'<label class="form-check-label" for="{ident}">'
                f"{html.escape(choice.text)}</label></div>"
            )
        rows.append("</div>")
    return "<fieldset><legend>Choose an environment</legend>" + "".join(rows) + "</fieldset>"


def render_dockerspawner(matrix: Matrix, releases: dict[str, Release], trust: SpawnTrust) -> str:
    profiles = offered(matrix, releases)
    usage = "Load from jupyterhub_config.py: load_subconfig('<this file>') or paste it there."
    # json.dumps of str keys and values is valid Python and escapes anything odd in names.
    allowed = json.dumps(choices_of(profiles), indent=4, ensure_ascii=False)
    return (
        header(releases, usage)
        + f"c.DockerSpawner.image = {json.dumps(profiles[0].default.image.pinned)}\n"
        + "# The first choice is the default one.\n"
        + f"c.DockerSpawner.allowed_images = {allowed}\n"
        + "# Images are pinned by digest: pulled once, never again.\n"
        + 'c.DockerSpawner.pull_policy = "ifnotpresent"\n'
        + "# The form users choose from: each image, and in it its variants (it posts "
        + "image=<label>).\n"
        + f"c.DockerSpawner.options_form = {json.dumps(options_form(profiles))}\n"
        + "# Before each spawn: verify the chosen image's signature, SBOM, provenance and gates\n"
        + f"# against the site key ({VERIFIER_FILE} beside this file), then pull it by digest\n"
        + "# (DockerSpawner 14 cannot pull name:tag@digest itself).\n"
        + trust.hook()
        + dockerspawner_limits(matrix, [c.image for p in profiles for c in p.choices])
    )


def write_profiles(
    matrix: Matrix, releases: dict[str, Release], folder: Path, trust: SpawnTrust
) -> list[Path]:
    """Every file for the current release of each variant in `releases`, whose every image
    was verified (publish.trust.checks)."""
    registry = next(iter(releases.values())).registry if releases else ""
    outputs = {
        Z2JH_FILE: render_z2jh(matrix, releases),
        DOCKERSPAWNER_FILE: render_dockerspawner(matrix, releases, trust),
        # For nodes that pull with containers/image (CRI-O under Kubernetes, podman).
        NODE_POLICY_FILE: json.dumps(node_policy(trust.public_key, registry), indent=2),
        REGISTRIES_D_FILE: registries_d(registry.split("/", 1)[0]),
    }
    paths = [trust.write_verifier(folder)]  # after rendering: a bad release writes nothing
    for name, text in outputs.items():
        path = folder / name
        write_atomically(path, text)
        paths.append(path)
    return paths
