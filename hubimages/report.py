"""The table printed at the end of a build."""

from __future__ import annotations

from collections.abc import Sequence

from hubimages.builder import BuildResult

MAX_TAGS_SHOWN = 4


def summary_table(results: Sequence[BuildResult]) -> str:
    rows = [("image", "status", "tags", "size", "time")]
    for r in results:
        tags = ", ".join(r.tags[:MAX_TAGS_SHOWN]) + (" ..." if len(r.tags) > MAX_TAGS_SHOWN else "")
        size = f"{r.size / 1e6:.0f} MB" if r.size else "-"
        rows.append((r.name, r.status, tags or "-", size, f"{r.seconds:.1f}s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
