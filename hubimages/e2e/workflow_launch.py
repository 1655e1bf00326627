"""The workflow catalogue in the scientist's session (docs/workflows.md), from a logged-out
browser: the catalogue answers over HTTP with each variant's release's digests, its page offers
the workflow's launch link, the link asks for the hub's login, starts the environment's server
with the workflow's profile and variant, pulls the repository into the home and opens the
notebook, which then runs to its result."""

from __future__ import annotations

import re
import string
import time
from dataclasses import dataclass
from typing import Any

import docker
from escapism import escape
from playwright.sync_api import expect

from hubimages.bench.workflows import LAUNCH_NUMBERS
from hubimages.core.files import write_json
from hubimages.e2e.checks import score_line
from hubimages.e2e.scientist import RUN_TIMEOUT_MS, SPAWN_TIMEOUT_MS, wait_for_lab
from hubimages.e2e.session import Session, StepError
from hubimages.model.spec import Matrix
from hubimages.publish.records import Release
from hubimages.services.hub import CONTAINER_LABEL, LocalHub

CATALOGUE = "/services/catalogue/"


@dataclass
class LaunchReport:
    workflow: str = ""
    launch_seconds: float = 0.0  # login submitted to the notebook open, in the browser
    query_ms: float = 0.0  # the catalogue's answer to a filtered query, as the browser got it
    outputs: list[str] | None = None


def launch_workflow(
    session: Session,
    matrix: Matrix,
    hub: LocalHub,
    user: str,
    releases: dict[str, Release],
    profile: str,
) -> LaunchReport:
    """The first workflow of the profile's environment in the matrix's variant, launched from
    a logged-out browser; its numbers left for `invoke bench`. No workflow there: an empty
    report (the command says so)."""
    names = [w.name for w in matrix.variant_workflows.values() if w.environment == profile]
    if not names:
        return LaunchReport()
    report = launch_session(session, hub, user, releases, names[0])
    if profile == "sdc1" and not score_line(report.outputs or []):
        raise StepError(
            "workflow-run",
            "the launched notebook printed no SDC1 score ('ours: score=...')",
            session.console.tail(),
            session.steps[-1].screenshot,
        )
    write_json(
        session.shots / LAUNCH_NUMBERS,
        {
            "launch_to_notebook_s": round(report.launch_seconds, 1),
            "launch_workflow": report.workflow,
            "launch_catalogue_query_ms": round(report.query_ms, 1),
        },
    )
    return report


def launch_session(
    session: Session, hub: LocalHub, user: str, releases: dict[str, Release], name: str
) -> LaunchReport:
    """Logged out (cookies cleared): the catalogue, the launch link, the notebook run; then
    the server is checked to run the environment's released image of the workflow's
    variant."""
    session.page.context.clear_cookies()
    report = LaunchReport(workflow=name)
    report.query_ms = check_catalogue(session, hub.url, releases, name)
    request = session.page.request
    workflows = _json(request.get(f"{hub.url}{CATALOGUE}api/workflows"))
    workflow = next(w for w in workflows if w["name"] == name)
    environments = _json(request.get(f"{hub.url}{CATALOGUE}api/environments"))
    server = next(e for e in environments if e["id"] == workflow["environment_id"])["server_name"]
    report.launch_seconds = launch(session, hub.url, user, hub.password, workflow)
    in_the_home(session, f"{hub.url}/user/{user}/{server}", workflow)
    report.outputs = run_all(session)
    release = releases.get(workflow["variant"])
    image = release.image(workflow["environment"]) if release else None
    running = _server_image(hub.name, user, server)
    if image is None or running != image.image_id:
        raise StepError(
            "workflow-run",
            f"the server runs image {running[:19]}, not {workflow['environment_id']}'s",
            session.console.tail(),
            session.steps[-1].screenshot,
        )
    return report


def _server_image(hub: str, user: str, server: str) -> str:
    """The image id of the hub's container for the user's named server, found by the name
    DockerSpawner gives it ("sdc1-trixie" is "sdc1-2dtrixie")."""
    suffix = f"-{spawner_escape(user)}--{spawner_escape(server)}"
    client = docker.from_env()
    for container in client.containers.list(filters={"label": f"{CONTAINER_LABEL}={hub}"}):
        if (container.name or "").endswith(suffix):
            return str(container.attrs["Image"])
    return ""


def spawner_escape(text: str) -> str:
    """DockerSpawner's escaping of a name part, with the library it uses (importing
    dockerspawner itself would cost every `invoke` command 0.4 s; a unit test compares)."""
    return str(escape(text, set(string.ascii_lowercase + string.digits), escape_char="-")).lower()


def check_catalogue(
    session: Session, hub: str, releases: dict[str, Release], workflow: str
) -> float:
    """Logged out: the API lists the workflow runnable, every environment (an image in a
    variant) at its variant's release's digest; a package query finds the workflow's
    environment. The query's time in ms."""
    request = session.page.request
    with session.step("catalogue-api"):
        workflows = _json(request.get(f"{hub}{CATALOGUE}api/workflows?runnable=true"))
        mine = next((w for w in workflows if w["name"] == workflow), None)
        assert mine is not None, f"{workflow} is not runnable: {[w['name'] for w in workflows]}"
        environments = _json(request.get(f"{hub}{CATALOGUE}api/environments"))
        offered = {(i.name, v): i.digest for v, r in releases.items() for i in r.images}
        listed = {(e["name"], e["variant"]): e["digest"] for e in environments}
        assert listed == offered, f"the catalogue offers {listed}, the releases {offered}"
        env = next(e for e in environments if e["id"] == mine["environment_id"])
        name, version = next(iter(sorted(mine["uses"].items())))
        started = time.monotonic()
        found = _json(request.get(f"{hub}{CATALOGUE}api/environments?package={name}=={version}"))
        query_ms = (time.monotonic() - started) * 1000
        assert env["id"] in [e["id"] for e in found], f"{name}=={version}: {found}"
    return query_ms


def _json(response: Any) -> list[dict[str, Any]]:
    assert response.status == 200, f"{response.url}: {response.status} {response.text()[:200]}"
    data: list[dict[str, Any]] = response.json()
    return data


def launch(session: Session, hub: str, user: str, password: str, workflow: dict[str, Any]) -> float:
    """From the catalogue page, logged out: the launch link, the login, the notebook open. The
    seconds from the login's submit to the notebook's first cell on screen."""
    page = session.page
    with session.step("catalogue-page"):
        page.goto(f"{hub}{CATALOGUE}")
        link = page.locator(f"#workflow-{workflow['name']} a", has_text="Launch")
        expect(link).to_be_visible()
        link.click()
    with session.step("launch-login"):
        page.wait_for_url(re.compile(r"/hub/login"))
        page.fill("#username_input", user)
        page.fill("#password_input", password)
        started = time.monotonic()
        page.click("#login_submit")
        page.wait_for_url(re.compile(r"/lab/workspaces/[^/]+/tree/"), timeout=SPAWN_TIMEOUT_MS)
        wait_for_lab(page)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
        seconds = time.monotonic() - started
        first = workflow["notebooks"][0]
        # JupyterLab opened the notebook the link names (its title is cut short: not that)
        assert page.url.split("?")[0].endswith(f"/tree/{workflow['name']}/{first}"), page.url
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)
    return seconds


def in_the_home(session: Session, user_base: str, workflow: dict[str, Any]) -> None:
    """The repository's files are in ~/<workflow>, as the server's contents API lists them."""
    page = session.page
    with session.step("repository-in-home"):
        folder = workflow["name"]
        listing = page.request.get(f"{user_base}/api/contents/{folder}?content=1")
        assert listing.status == 200, f"~/{folder} is not in the home: {listing.status}"
        names = {item["name"] for item in listing.json()["content"]}
        assert {n.rsplit("/", 1)[-1] for n in workflow["notebooks"]} <= names, names


def run_all(session: Session) -> list[str]:
    """Run every cell of the open notebook; its text outputs (no traceback)."""
    page = session.page
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    with session.step("workflow-run"):
        page.locator("#jp-MainMenu .lm-MenuBar-item", has_text="Run").click()
        page.locator(".lm-Menu li[data-command='runmenu:run-all']").click()
        indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
        page.wait_for_timeout(500)
        expect(indicator).to_have_attribute("data-status", "idle", timeout=RUN_TIMEOUT_MS)
        errors = notebook.locator(
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']",
            has_text="Traceback",
        )
        assert errors.count() == 0, errors.first.text_content()
    return notebook.locator(".jp-OutputArea-output").all_text_contents()
