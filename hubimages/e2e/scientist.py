"""A scientist's session on the hub, step by step, as they live it in the browser.

Selectors are JupyterHub 5's and JupyterLab 4's own (ids and data-command attributes of their
pages), not positions on the screen.
"""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from hubimages.e2e.session import Session
from hubimages.model.spec import Matrix
from hubimages.publish.records import Release

SPAWN_TIMEOUT_MS = 180_000
RUN_TIMEOUT_MS = 300_000
LAB_TIMEOUT_MS = 120_000
# What a page that reaches for the internet meets here: names that do not resolve, fetches that
# fail on them (Aladin Lite reports its survey's as uncaught errors), and its fallback of
# fetching a survey id as a path of the server (redirected to log in).
OFFLINE = re.compile(
    r"net::ERR_NAME_NOT_RESOLVED|net::ERR_TOO_MANY_REDIRECTS|"
    r"TypeError: Failed to fetch|^uncaught: Failed to fetch$"
)


def log_in(session: Session, hub: str, user: str, password: str) -> None:
    page = session.page
    with session.step("login"):
        page.goto(f"{hub}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", password)
        page.click("#login_submit")
        page.wait_for_url(re.compile(r"/hub/(spawn|home)|/user/"))


def choose_profile(
    session: Session, hub: str, matrix: Matrix, release: Release, image: str
) -> None:
    """The form lists every image of the release by name and description; pick `image`, in the
    matrix's variant (its choice reads Python ..., Debian ...)."""
    offered = {
        matrix.images[i.name].display_name: matrix.images[i.name].description
        for i in release.images
    }
    choice, variant = matrix.images[image].display_name, matrix.variant.describe()
    page = session.page
    with session.step("profile-form"):
        if "/hub/spawn" not in page.url:
            page.goto(f"{hub}/hub/spawn")
        form = page.locator("#spawn_form")
        expect(form).to_be_visible()
        text = " ".join(form.inner_text().split())
        for name, description in offered.items():
            assert name in text, f"the form does not offer {name!r}: {text[:300]}"
            assert " ".join(description.split()) in text, f"no description of {name!r}"
        profile = page.locator(".hubimages-profile", has_text=choice)
        profile.locator("label", has_text=variant).click()
    with session.step("spawn"):
        page.click("#spawn_form [type=submit]")
        page.wait_for_url(re.compile(r"/user/[^/]+/lab"), timeout=SPAWN_TIMEOUT_MS)


def lab_ready(session: Session) -> None:
    with session.step("lab"):
        wait_for_lab(session.page)


def wait_for_lab(page: Page) -> None:
    # The dock panel first: before the lab's script runs there is no splash either (a loaded
    # machine was seen taking more than 5 s from the first to the second).
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=LAB_TIMEOUT_MS)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=LAB_TIMEOUT_MS)


def run_notebook(session: Session, user_base: str, path: str) -> list[str]:
    """Open a notebook of the home, run all its cells; its text outputs."""
    page = session.page
    with session.step("open-notebook"):
        page.goto(f"{user_base}/lab/tree/{path}")
        wait_for_lab(page)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
        kernel = notebook.locator(".jp-Toolbar-kernelName")
        expect(kernel).not_to_have_text(re.compile("No Kernel"), timeout=120_000)
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)
    with session.step("run-all"):
        page.locator("#jp-MainMenu .lm-MenuBar-item", has_text="Run").click()
        page.locator(".lm-Menu li[data-command='runmenu:run-all']").click()
        indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
        page.wait_for_timeout(500)
        expect(indicator).to_have_attribute("data-status", "idle", timeout=RUN_TIMEOUT_MS)
        prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
        assert not any("*" in prompt for prompt in prompts), f"still running: {prompts}"
        errors = notebook.locator(
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']",
            has_text="Traceback",
        )
        assert errors.count() == 0, errors.first.text_content()
        plots = notebook.locator(".jp-RenderedImage img")
        expect(plots.first).to_be_visible()  # the example's figures, shown
    return notebook.locator(".jp-OutputArea-output").all_text_contents()


def new_notebook(page: Page) -> Locator:
    """File > New > Notebook with the default kernel, as from the menu; the notebook panel."""
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text="File").click()
    page.locator(".lm-Menu li[data-type='submenu']", has_text="New").hover()
    page.locator(".lm-Menu li[data-command='notebook:create-new']").click()
    kernel_dialog = page.locator(".jp-Dialog .jp-mod-accept")
    try:  # JupyterLab asks for a kernel only when it has no preferred one
        kernel_dialog.click(timeout=3_000)
    except PlaywrightError:
        pass
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)
    return notebook


def run_cell(page: Page, notebook: Locator, code: str, timeout_ms: int = 120_000) -> str:
    """Type code into the last cell, run it (Shift+Enter), wait for its prompt number; its
    output text."""
    return run_code_cell(page, notebook, code, timeout_ms).locator(".jp-OutputArea").inner_text()


def run_code_cell(page: Page, notebook: Locator, code: str, timeout_ms: int = 120_000) -> Locator:
    """Type code into the last cell, run it, wait for its prompt number; the cell."""
    cells = notebook.locator(".jp-CodeCell")
    cell = cells.nth(cells.count() - 1)  # fixed now: running it appends a new last cell
    cell.locator(".cm-content").click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(
        re.compile(r"\[\d+\]"), timeout=timeout_ms
    )
    return cell


def sky_view(session: Session, code: str, centre: str) -> None:
    """A new notebook whose cell shows an ipyaladin widget: Aladin Lite draws its view, centred
    where the code asked, with its catalogue layer. The only console errors it may add are
    requests the closed network refuses (its survey list and tiles on the internet)."""
    page, console = session.page, session.console
    before = len(console.errors)
    with session.step("ipyaladin"):
        notebook = new_notebook(page)
        output = run_code_cell(page, notebook, code).locator(".jp-OutputArea")
        view = output.locator(".aladin-container .aladin-imageCanvas")
        expect(view).to_be_visible(timeout=60_000)
        box = view.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, box
        expect(output.locator(".aladin-container .aladin-catalogCanvas")).to_be_attached()
        expect(output.locator(".aladin-location .aladin-input-text")).to_have_value(
            re.compile(re.escape(centre))
        )
        text = output.inner_text()
        assert "Error" not in text and "Traceback" not in text, text[-600:]
        others = [e for e in console.errors[before:] if not OFFLINE.search(e)]
        assert not others, f"the browser console has errors: {others[:3]}"


def stop_server(session: Session, hub: str) -> None:
    page = session.page
    with session.step("stop-server"):
        page.goto(f"{hub}/hub/home")
        page.click("#stop")
        expect(page.locator("#stop")).to_be_hidden(timeout=120_000)
        expect(page.locator("#start")).to_have_text(re.compile("Start My Server"))
