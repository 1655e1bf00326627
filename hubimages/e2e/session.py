"""Steps of a browser session: each timed, each leaving a screenshot, a failure naming itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from hubimages.e2e.browser import Console
from hubimages.errors import HubImagesError


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    screenshot: Path


class StepError(HubImagesError):
    """A step of the session failed: its name, what went wrong, the browser's console."""

    def __init__(self, step: str, problem: str, console: list[str], screenshot: Path) -> None:
        super().__init__(f"step {step!r} failed: {problem} (screenshot {screenshot})")
        self.step = step
        self.console = console
        self.screenshot = screenshot
        self.server_log: list[str] = []  # the user server's last lines, when there was one
        self.done: list[StepResult] = []  # the steps before it, which passed


@dataclass
class Session:
    page: Page
    console: Console
    shots: Path
    steps: list[StepResult] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        shot = self.shots / f"{name}.png"
        started = time.monotonic()
        try:
            yield
        except (PlaywrightError, AssertionError, HubImagesError) as exc:
            self._screenshot(shot)
            if isinstance(exc, StepError):
                raise
            problem = " ".join(str(exc).split())[:400] or type(exc).__name__
            raise StepError(name, problem, self.console.tail(), shot) from None
        seconds = time.monotonic() - started
        self._screenshot(shot)
        self.steps.append(StepResult(name, seconds, shot))

    def _screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path), full_page=False)
        except PlaywrightError:
            pass  # the page is gone: the step's error says why
