"""Text the commands print: summary tables, release lines, diffs, lint results, numbers."""

from __future__ import annotations

from collections.abc import Sequence

from hubimages.builder.run import BuildResult
from hubimages.ci.lint import LintResult
from hubimages.publish.diff import PackageChange
from hubimages.publish.records import Release
from hubimages.verify.conformance_report import GOAL, ConformanceReport

MAX_TAGS_SHOWN = 4


def summary_table(results: Sequence[BuildResult]) -> str:
    rows: list[tuple[str, ...]] = [("image", "variant", "status", "tags", "size", "time")]
    for r in results:
        tags = ", ".join(r.tags[:MAX_TAGS_SHOWN]) + (" ..." if len(r.tags) > MAX_TAGS_SHOWN else "")
        size = f"{r.size / 1e6:.0f} MB" if r.size else "-"
        rows.append(
            (r.name, r.variant or "-", r.status.value, tags or "-", size, f"{r.seconds:.1f}s")
        )
    return table(rows)


def table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def release_summary(release: Release) -> str:
    lines = [f"release {release.tag} ({release.variant}) to {release.registry}:"]
    width = max(len(i.name) for i in release.images)
    lines += [f"  {i.name:{width}}  {i.pinned}" for i in release.images]
    return "\n".join(lines)


def history_lines(releases: Sequence[Release]) -> list[str]:
    lines = []
    for entry in releases:
        images = " ".join(f"{i.name}@{i.digest[7:19]}" for i in entry.images)
        lines.append(
            f"{entry.tag}  {entry.variant or '-'}  {entry.created or '-'}  "
            f"{entry.revision[:7] or '-'}  {images}"
        )
    return lines


def format_diff(name: str, old_tag: str, new_tag: str, changes: list[PackageChange]) -> str:
    if not changes:
        return f"{name}: no package changes between {old_tag} and {new_tag}"
    lines = [f"{name}: {len(changes)} package changes from {old_tag} to {new_tag}"]
    for change in changes:
        kind = change.kind.value
        if not change.old:
            lines.append(f"  + {kind:6} {change.name} {change.new}")
        elif not change.new:
            lines.append(f"  - {kind:6} {change.name} {change.old}")
        else:
            lines.append(f"  ~ {kind:6} {change.name} {change.old} -> {change.new}")
    return "\n".join(lines)


def lint_report(results: Sequence[LintResult]) -> str:
    lines = []
    for result in results:
        lines.append(f"{result.name}: {'ok' if result.ok else 'FAILED'}")
        if not result.ok and result.output:
            lines.append(result.output)
    return "\n".join(lines)


def numbers(values: dict[str, object]) -> str:
    width = max(map(len, values), default=0)
    return "\n".join(f"{key.ljust(width)}  {value}" for key, value in values.items())


def conformance_table(result: ConformanceReport) -> str:
    rows: list[tuple[str, ...]] = [("file", "folder", "total", "passed", "failed", "skipped")]
    for f in result.files:
        rows.append(
            (f.name, f.folder, str(f.total), str(f.passed), str(len(f.failed)), str(f.skipped))
        )
    rows.append(
        (
            "TOTAL",
            "",
            str(result.total),
            str(result.passed),
            str(len(result.failures)),
            str(sum(f.skipped for f in result.files)),
        )
    )
    lines = [
        f"docker-stacks suite against {result.image_id[:19]}",
        table(rows),
        f"passed {result.passed}/{result.total} ({result.pass_rate:.1%}; goal {GOAL:.0%})",
    ]
    for test in result.failures:
        reason = result.reason(test) or "UNEXPECTED: not a known divergence"
        lines.append(f"  failed {test}: {reason}")
    return "\n".join(lines)
