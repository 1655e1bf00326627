"""What the e2e checks in the notebooks: the example's score line, a site package installed with
`%pip` from the site's own index."""

from __future__ import annotations

import re

from hubimages.e2e.scientist import new_notebook, run_cell
from hubimages.e2e.session import Session
from hubimages.services.simpleindex import PurePythonWheel

SCORE = re.compile(r"^ours: score=-?\d+\.\d+ ")
# The scientist's group's own package, on the site's index.
SITE_PACKAGE = PurePythonWheel(
    "skahub-site-tools",
    "1.0",
    '"""A site\'s own package."""\n\ndef greeting():\n    return "hello from the site index"\n',
)


def score_line(outputs: list[str]) -> str:
    """The example's `ours: score=<value> ...` line (sdc1_pipeline's Score.summary)."""
    return next(
        (
            line.strip()
            for text in outputs
            for line in text.splitlines()
            if SCORE.match(line.strip())
        ),
        "",
    )


def pip_install(session: Session, index_url: str) -> None:
    """`%pip install` of the site's package from its index, then import it."""
    host = index_url.split("/")[2]
    with session.step("pip-install"):
        notebook = new_notebook(session.page)
        out = run_cell(
            session.page,
            notebook,
            f"%pip install --index-url {index_url} --trusted-host {host} "
            f"{SITE_PACKAGE.project}=={SITE_PACKAGE.version}",
        )
        assert f"Successfully installed {SITE_PACKAGE.project}" in out, out[-600:]
        out = run_cell(
            session.page,
            notebook,
            f"import {SITE_PACKAGE.module}; print({SITE_PACKAGE.module}.greeting())",
        )
        assert "hello from the site index" in out, out[-600:]
