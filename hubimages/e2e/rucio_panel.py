"""The Rucio JupyterLab side panel (rucio-jupyterlab 41), as a scientist uses it in the browser.

It drives the extension's own UI: the left sidebar tab, the settings tab with the userpass
credentials (the image's rucio-configure stores those RUCIO_* gives, as the form would), the
Explore tab's DID search and a file's "Make Available".

Selectors: the extension styles everything with react-jss, whose class names (`tabItem-0-2-13`)
are generated at run time, so none are used. What is stable is what the extension itself names:
the panel widget's id `rucio-jupyterlab:panel` (the sidebar tab's data-id) and class
`jp-RucioExtensionPanel`; the Material Icons ligature names of its icons (`settings`,
`attachment`, `folder`, `folder_open`: the text inside `i.material-icons`); its placeholders
("Enter a Data Identifier (DID)", "Username", ...); its button, heading and status texts ("Save
Settings", "Search Results", "Make Available", "Available"). Waits follow the extension's REST
calls (/rucio-jupyterlab/...) and its texts. The panel polls a file's status every 10 s, so
"Available" shows up to 10 s after the download ended.
"""

from __future__ import annotations

import base64
import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Response, expect

from hubimages.errors import HubImagesError

SIDEBAR_TAB = ".jp-SideBar.jp-mod-left li[data-id='rucio-jupyterlab:panel']"
PANEL = ".jp-RucioExtensionPanel"
SEARCH_PLACEHOLDER = "Enter a Data Identifier (DID)"
# The icon in front of each search result, by DID type; the DID is the text just after it.
RESULT_ICONS = re.compile(r"^(attachment|folder|folder_open)$")
API = "/rucio-jupyterlab/"
TIMEOUT_MS = 60_000


def panel(page: Page) -> Locator:
    return page.locator(PANEL)


def menu(page: Page, name: str) -> Locator:
    """A tab of the panel's menu bar: 'Explore', 'Notebook', or the icon of one ('settings',
    'upload': an icon's text is its ligature name)."""
    return panel(page).locator("li", has_text=re.compile(f"^{re.escape(name)}$", re.IGNORECASE))


def open_panel(page: Page) -> None:
    """Show the Rucio panel (the sidebar tab toggles it: click only when it is not shown)."""
    tab = page.locator(SIDEBAR_TAB)
    expect(tab, "no Rucio tab in the left sidebar").to_be_visible(timeout=TIMEOUT_MS)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    expect(panel(page)).to_be_visible()
    explore = menu(page, "Explore")
    expect(
        explore, "the Rucio panel shows no Explore tab: its extension did not load (console below)"
    ).to_be_visible()
    if "disabled" in (explore.get_attribute("class") or "").split():
        raise HubImagesError(
            "the Rucio panel has no active instance: the server's RUCIO_* variables gave "
            "rucio-configure no instance to write (its lines are in the server log below)"
        )


def log_in(page: Page, username: str, password: str, account: str = "") -> None:
    """Save userpass credentials in the panel's settings tab, as the extension asks a user to.

    Nothing is saved when the extension already holds these credentials."""
    menu(page, "settings").click()
    # Each auth type has its form, all rendered, the other types' hidden: keep the visible one.
    fields = {
        placeholder: panel(page).get_by_placeholder(placeholder, exact=True).filter(visible=True)
        for placeholder in ("Username", "Password", "Account")
    }
    expect(
        fields["Username"],
        "the Rucio panel's settings offer no username and password: "
        "the instance's auth type is not userpass",
    ).to_be_visible()
    expect(fields["Username"]).to_be_enabled()  # disabled while stored credentials load
    wanted = {"Username": username, "Password": password, "Account": account or username}
    if all(fields[key].input_value() == value for key, value in wanted.items()):
        menu(page, "Explore").click()
        return
    for key, value in wanted.items():
        fields[key].fill(value)
    with page.expect_response(
        lambda r: API + "auth" in r.url and r.request.method == "PUT", timeout=TIMEOUT_MS
    ) as answer:
        # After a refusal the button reads "Error!" for 5 s; it saves all the same.
        panel(page).get_by_role("button", name=re.compile(r"^(Save Settings|Error!)$")).click()
    # The button says "Saved!" or "Error!" for a few seconds only (timers of earlier saves can
    # cut that short): the extension's answer to the save is the verdict.
    expect(panel(page).get_by_role("button", name="Saving...")).to_have_count(0)
    if answer.value.status != 200:
        raise HubImagesError(
            f"the Rucio panel refused userpass login for {username!r}: {reason(answer.value)}"
        )
    menu(page, "Explore").click()


def reason(response: Response) -> str:
    """The extension's error message ({"error": ...}) of a failed call, or its status."""
    try:
        body = response.json()
    except (PlaywrightError, ValueError):
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    return str(error or f"HTTP {response.status} {response.status_text}")


def list_files(page: Page, did_pattern: str) -> list[str]:
    """Search `did_pattern` (e.g. 'user.scientist:*', everything: files and collections) in the
    Explore tab; the DIDs the panel lists (those its virtual list has rendered)."""
    menu(page, "Explore").click()
    box = panel(page).get_by_placeholder(SEARCH_PLACEHOLDER)
    box.fill(did_pattern)
    with page.expect_response(lambda r: API + "did-search" in r.url, timeout=TIMEOUT_MS):
        box.press("Enter")
    found = panel(page).get_by_text(re.compile(r"^(Search Results|Error\(s\) found)$"))
    expect(found).to_be_visible()
    if found.inner_text().strip().lower() != "search results":
        problem = found.locator("xpath=following-sibling::div[1]").inner_text()
        raise HubImagesError(f"the Rucio panel's search for {did_pattern!r} failed: {problem}")
    icons = panel(page).locator("i.material-icons", has_text=RESULT_ICONS)
    return [
        icon.locator("xpath=../following-sibling::div[1]").inner_text().strip()
        for icon in icons.all()
    ]


def make_available(page: Page, did: str, timeout_ms: int = 120_000) -> str:
    """Expand a listed file, click its "Make Available" unless it is available already, wait
    until the panel calls it available; the status it shows ("Available": it shows no path)."""
    name = panel(page).get_by_text(did, exact=True)
    expect(name, f"the Rucio panel does not list {did!r}").to_be_visible()
    row = name.locator("xpath=../..")  # the result's container: its line, then its details
    if row.locator("xpath=./div[2]").count() == 0:  # collapsed (a click on it would collapse)
        name.click()
    status = row.get_by_text(re.compile(r"^(Available|Make Available|Retry)$"))
    expect(status).to_be_visible(timeout=TIMEOUT_MS)
    if status.inner_text().strip() != "Available":
        with page.expect_response(
            lambda r: API + "did/make-available" in r.url, timeout=TIMEOUT_MS
        ):
            status.click()
        status = row.get_by_text(re.compile(r"^(Available|Retry)$"))
        expect(status).to_be_visible(timeout=timeout_ms)
    if status.inner_text().strip() != "Available":
        raise HubImagesError(
            f"the Rucio panel could not make {did!r} available: "
            f"{' '.join(row.inner_text().split())}"
        )
    return status.inner_text().strip()


def download_path(home: str, namespace: str, did: str) -> str:
    """Where the extension's download mode puts a file made available (the panel does not show
    it): ~/rucio/<instance>/downloads/<DID in lowercase base32, no padding>/<scope>/<name>."""
    scope, _, name = did.partition(":")
    folder = base64.b32encode(did.encode()).decode().lower().rstrip("=")
    return f"{home}/rucio/{namespace}/downloads/{folder}/{scope}/{name}"
