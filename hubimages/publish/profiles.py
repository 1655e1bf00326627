"""Spawner profiles of a release: what a hub admin pastes into the hub's configuration.

Two formats with the same choices, from build-matrix.yaml (names, descriptions, default) and the
release's recorded digests: a Zero to JupyterHub values snippet (KubeSpawner's profile_list) and
a DockerSpawner `allowed_images` snippet. Images are pinned as name:tag@digest, so what runs is
what was tested, while the tag keeps the reference readable.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import yaml

from hubimages.core.files import write_atomically
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.publish.limits import dockerspawner_limits, kubespawner_limits
from hubimages.publish.records import PublishedImage, Release

Z2JH_FILE = "z2jh-values.yaml"
DOCKERSPAWNER_FILE = "dockerspawner_config.py"


def offered(matrix: Matrix, release: Release) -> list[PublishedImage]:
    """The release's images in matrix order, the default one first."""
    images = [image for name in matrix.images if (image := release.image(name)) is not None]
    if not images:
        raise HubImagesError(
            f"release {release.tag} has no image of build-matrix.yaml; "
            "release one first (`invoke release IMAGE --registry ...`)"
        )
    default = default_name(matrix, images)
    return sorted(images, key=lambda image: image.name != default)


def default_name(matrix: Matrix, images: list[PublishedImage]) -> str:
    """The matrix's default image if it is offered, else the first offered one."""
    names = [image.name for image in images]
    marked = [name for name in names if matrix.images[name].default]
    return marked[0] if marked else names[0]


def versions_text(image: PublishedImage) -> str:
    parts = [
        f"JupyterHub {image.jupyterhub}" if image.jupyterhub else "",
        f"JupyterLab {image.jupyterlab}" if image.jupyterlab else "",
    ]
    return ", ".join(p for p in parts if p)


def header(release: Release, usage: str) -> str:
    lines = [
        f"Spawner profiles of release {release.tag} from {release.registry}",
        f"(git revision {release.revision[:12] or 'unknown'}), written by `invoke profiles`.",
        "Each image is pinned by digest: what runs is what was tested.",
        usage,
    ]
    return "".join(f"# {line}\n" for line in lines)


def description_of(matrix: Matrix, image: PublishedImage) -> str:
    versions = versions_text(image)
    description = matrix.images[image.name].description.rstrip()
    return f"{description} {versions}." if versions else description


def render_z2jh(matrix: Matrix, release: Release) -> str:
    images = offered(matrix, release)
    profiles = []
    for image in images:
        profile: dict[str, object] = {
            "display_name": matrix.images[image.name].display_name,
            "description": description_of(matrix, image),
            "slug": image.name,
        }
        if image is images[0]:
            profile["default"] = True
        profile["kubespawner_override"] = {
            "image": image.pinned,
            **kubespawner_limits(matrix.images[image.name].resources),
        }
        profiles.append(profile)
    default = images[0]
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
            "profileList": profiles,
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
    return header(release, usage) + body


def choices_of(matrix: Matrix, images: list[PublishedImage]) -> dict[str, str]:
    """DockerSpawner's allowed_images: a label per image (what the form posts) -> image."""
    choices = {}
    for image in images:
        versions = versions_text(image)
        label = matrix.images[image.name].display_name
        choices[f"{label} · {versions}" if versions else label] = image.pinned
    return choices


def options_form(matrix: Matrix, images: list[PublishedImage]) -> str:
    """The profile form: each image's name and description, the default one checked."""
    rows = []
    for index, (label, image) in enumerate(zip(choices_of(matrix, images), images, strict=True)):
        spec = matrix.images[image.name]
        checked = " checked" if index == 0 else ""
        rows.append(
            f'<div class="form-check mb-2"><input class="form-check-input" type="radio" '
            f'name="image" id="image-{image.name}" value="{html.escape(label)}"{checked}>'
            f'<label class="form-check-label" for="image-{image.name}"><strong>'
            f"{html.escape(spec.display_name)}</strong><br><small>"
            f"{html.escape(description_of(matrix, image))}</small></label></div>"
        )
    return "<fieldset><legend>Choose an environment</legend>" + "".join(rows) + "</fieldset>"


# DockerSpawner 14 cannot pull a name:tag@digest reference (it splits it at the last ':' and
# asks the registry for a tag named after the digest's hex), so a node that lacks the image
# would fail every spawn: the hook pulls by digest first, and DockerSpawner finds it present.
PULL_HOOK = """
import docker.errors


async def pull_pinned_image(spawner):
    \"\"\"Pull the chosen image by its digest when the engine lacks it.\"\"\"
    chosen = spawner.user_options.get("image")
    allowed = spawner.allowed_images if isinstance(spawner.allowed_images, dict) else {}
    pinned = allowed.get(chosen, spawner.image)
    if "@" not in pinned:
        return
    try:
        await spawner.docker("inspect_image", pinned)
    except docker.errors.NotFound:
        name_and_tag, digest = pinned.split("@", 1)
        spawner.log.info("pulling %s", pinned)
        await spawner.docker("pull", name_and_tag.rsplit(":", 1)[0], tag=digest)


c.Spawner.pre_spawn_hook = pull_pinned_image
"""


def render_dockerspawner(matrix: Matrix, release: Release) -> str:
    images = offered(matrix, release)
    usage = "Load from jupyterhub_config.py: load_subconfig('<this file>') or paste it there."
    # json.dumps of str keys and values is valid Python and escapes anything odd in names.
    allowed = json.dumps(choices_of(matrix, images), indent=4, ensure_ascii=False)
    return (
        header(release, usage)
        + f"c.DockerSpawner.image = {json.dumps(images[0].pinned)}\n"
        + "# The first choice is the default one.\n"
        + f"c.DockerSpawner.allowed_images = {allowed}\n"
        + "# Images are pinned by digest: pulled once, never again.\n"
        + 'c.DockerSpawner.pull_policy = "ifnotpresent"\n'
        + "# The form users choose from: names and descriptions (it posts image=<label>).\n"
        + f"c.DockerSpawner.options_form = {json.dumps(options_form(matrix, images))}\n"
        + "# DockerSpawner 14 cannot pull name:tag@digest: pull by digest before it looks.\n"
        + PULL_HOOK
        + dockerspawner_limits(matrix, images)
    )


def write_profiles(matrix: Matrix, release: Release, folder: Path) -> list[Path]:
    outputs = {
        Z2JH_FILE: render_z2jh(matrix, release),
        DOCKERSPAWNER_FILE: render_dockerspawner(matrix, release),
    }
    paths = []
    for name, text in outputs.items():
        path = folder / name
        write_atomically(path, text)
        paths.append(path)
    return paths
