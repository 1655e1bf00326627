"""HISTORY.md: the releases of a registry target, newest first, each image linked."""

from __future__ import annotations

from hubimages.publish.records import Release


def history_markdown(history: list[Release]) -> str:
    lines = [
        "# Releases",
        "",
        "Newest first. Each image links to its package inventory.",
        "",
        "| release | variant | created | git revision | images |",
        "| --- | --- | --- | --- | --- |",
    ]
    for release in history:
        images = ", ".join(
            f"[{i.name}](releases/{release.tag}/{i.name}.md) `{i.digest[7:19]}`"
            for i in release.images
        )
        lines.append(
            f"| {release.tag} | {release.variant or '-'} | {release.created} "
            f"| `{release.revision[:7]}` | {images} |"
        )
    return "\n".join(lines) + "\n"
