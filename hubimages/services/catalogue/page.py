"""The catalogue as one HTML page, readable without JavaScript: a filter form (a plain GET),
each environment with its contents and size (package lists in <details>), each workflow with
its status and launch link. Everything from the document is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
code{font-size:.85em}.ok{color:#176317}.no{color:#9b1c1c}form label{margin-right:1rem}
details{margin:.25rem 0}summary{cursor:pointer}.small{font-size:.85em;color:#555}
"""


@dataclass(frozen=True)
class PageFilters:
    python: tuple[str, ...] = ()
    debian: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    text: str = ""
    variant: str = ""


def render_page(
    document: dict[str, Any],
    launch_base: str,
    environments: list[dict[str, Any]] | None = None,
    workflows: list[dict[str, Any]] | None = None,
    filters: PageFilters | None = None,
    error: str = "",
) -> str:
    """The page; launch links are launch_base + each workflow's `launch` (relative to the
    service when empty)."""
    shown_environments = document["environments"] if environments is None else environments
    shown_workflows = document["workflows"] if workflows is None else workflows
    title = f"Environments and workflows of release {document['release']}"
    parts = [
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>",
        f"<p class=small>Registry <code>{escape(document['registry'])}</code>; releases "
        + escape(", ".join(f"{v}: {tag}" for v, tag in document["releases"].items()))
        + f"; generated {escape(document['generated'])}. The same as JSON: <a href=api/catalogue>"
        "api/catalogue</a> (schema: <a href=api/schema>api/schema</a>).</p>",
        _form(filters or PageFilters()),
        f"<p class=no>{escape(error)}</p>" if error else "",
        f"<h2>Workflows ({len(shown_workflows)})</h2>",
        _workflows(shown_workflows, launch_base),
        f"<h2>Environments ({len(shown_environments)})</h2>",
        *(_environment(e) for e in shown_environments),
        "</body></html>",
    ]
    return "".join(parts) + "\n"


def _form(filters: PageFilters) -> str:
    def field(name: str, label: str, values: tuple[str, ...] | str, hint: str) -> str:
        value = values if isinstance(values, str) else (values[0] if values else "")
        return (
            f'<label>{label} <input name={name} value="{escape(value)}" '
            f'placeholder="{escape(hint)}"></label>'
        )

    return (
        "<form method=get>"
        + field("package", "Python package", filters.python, "bdsf>=1.14")
        + field("debian", "Debian package", filters.debian, "git")
        + field("uses", "Workflows using", filters.uses, "astropy")
        + field("variant", "Variant", filters.variant, "trixie")
        + field("q", "Text", filters.text, "sdc1")
        + "<button type=submit>Filter</button> <a href=.>all</a></form>"
    )


def _workflows(workflows: list[dict[str, Any]], launch_base: str) -> str:
    rows = [
        "<table><tr><th>workflow</th><th>environment</th><th>notebooks</th><th>status</th>"
        "<th>launch</th></tr>"
    ]
    for w in workflows:
        status = (
            f"<span class=ok>runnable</span><br><span class=small>passed on "
            f"{escape(', '.join(p['digest'][:19] for p in w['passed'][:3]))}</span>"
            if w["runnable"]
            else f"<span class=no>not runnable</span><br><span class=small>"
            f"{escape(w['reason'])}</span>"
        )
        launch = (
            f'<a href="{escape(launch_base + w["launch"])}">Launch</a>' if w["runnable"] else "-"
        )
        uses = ", ".join(f"{k} {v}" for k, v in w["uses"].items())
        rows.append(
            f'<tr id="workflow-{escape(w["name"])}"><td><strong>{escape(w["display_name"])}'
            f"</strong> <code>{escape(w['name'])}</code><br>{escape(w['description'])}<br>"
            f"<span class=small>repository <code>{escape(w['repository'])}</code> at "
            f"<code>{escape(w['commit'][:12])}</code>; uses {escape(uses or '-')}</span></td>"
            f"<td><code>{escape(w['environment_id'])}</code></td>"
            f"<td>{'<br>'.join(escape(n) for n in w['notebooks'])}</td>"
            f"<td>{status}</td><td>{launch}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _environment(e: dict[str, Any]) -> str:
    size = f"{e['size'] / 1e6:.0f} MB"
    if e.get("compressed_size"):
        size += f" ({e['compressed_size'] / 1e6:.0f} MB compressed)"
    variant = f"{e['variant']} (Debian {e['debian_suite']})"
    if e["default_variant"]:
        variant += ", the default"
    facts = [
        ("variant", escape(variant)),
        ("image", f"<code>{escape(e['image'])}</code>"),
        ("size", escape(size)),
        ("Python", escape(e["python"] or "-")),
        ("JupyterHub / JupyterLab", escape(f"{e['jupyterhub'] or '-'} / {e['jupyterlab'] or '-'}")),
        ("tags", escape(", ".join(e["tags"]))),
    ]
    if e.get("findings"):
        facts.append(("findings", escape(f"{len(e['findings'])}")))
    return (
        f'<h3 id="environment-{escape(e["id"])}">{escape(e["display_name"])} '
        f"<code>{escape(e['id'])}</code></h3><p>{escape(e['description'])}</p><table>"
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
        + "</table>"
        + _packages("Python packages", e["python_packages"])
        + _packages("Debian packages", e["debian_packages"])
    )


def _packages(title: str, packages: dict[str, str]) -> str:
    items = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(version)}</td></tr>"
        for name, version in sorted(packages.items())
    )
    return (
        f"<details><summary>{title} ({len(packages)})</summary><table>"
        f"<tr><th>package</th><th>version</th></tr>{items}</table></details>"
    )
