"""The catalogue service: a JupyterHub service (tornado) at /services/catalogue/.

    python -m hubimages.services.catalogue.app --document catalogue.json --port N \\
        --git-url http://GATEWAY:PORT [--access public|login]

    GET .                     the HTML page (filters: package=, debian=, uses=, variant=, q=)
    GET api/catalogue         the whole document (JSON)
    GET api/schema            its JSON Schema
    GET api/environments      filters: package= (repeatable, e.g. bdsf>=1.14), debian=, variant=,
                              q=
    GET api/workflows         filters: uses= (repeatable, e.g. pyvo), environment=, variant=,
                              runnable=, q=
    GET launch/<workflow>     log in, start the workflow's environment, open its notebook

The list is public or behind the hub's login (--access); a launch always needs the login: it
starts a server of the user's. It redirects to the hub's spawn page of the user's named server
for the environment and variant, with the profile and its variant chosen in the query, and
from there (`next`) to
nbgitpuller's git-pull of that server, which clones or updates the repository from the hub's
git service into ~/<workflow> and opens the first notebook. The document is read again when
its file changes (a release rewrites it), so the service needs no restart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web

from hubimages.services.catalogue.page import PageFilters, render_page
from hubimages.services.catalogue.query import (
    CatalogueIndex,
    EnvironmentQuery,
    QueryError,
    WorkflowQuery,
    conditions,
)
from hubimages.services.catalogue.schema import SCHEMA
from hubimages.services.orphans import when_orphaned


class CatalogueFile:
    """The document and its index, read again when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._index = CatalogueIndex({"environments": [], "workflows": []})

    @property
    def index(self) -> CatalogueIndex:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._index = CatalogueIndex.of(json.loads(self.path.read_text()))
            self._stamp = stamp
        return self._index


class Base(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    def initialize(self, catalogue: CatalogueFile, access: str, git_url: str) -> None:
        self.catalogue = catalogue
        self.access = access
        self.git_url = git_url

    def prepare(self) -> None:
        if self.access == "login" and not self.current_user:
            self.redirect(self.get_login_url())
            self.finish()

    def json(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def args(self, name: str) -> tuple[str, ...]:
        return conditions(self.get_arguments(name))


class Page(Base):
    def get(self) -> None:
        index = self.catalogue.index
        filters = PageFilters(
            self.args("package"),
            self.args("debian"),
            self.args("uses"),
            self.get_argument("q", ""),
            self.get_argument("variant", ""),
        )
        try:
            environments = index.environments(
                EnvironmentQuery(filters.python, filters.debian, filters.text, filters.variant)
            )
            workflows = index.workflows(
                WorkflowQuery(filters.uses, text=filters.text, variant=filters.variant)
            )
        except QueryError as problem:
            self.set_status(400)
            self.finish(render_page(index.document, "", [], [], filters, str(problem)))
            return
        self.finish(render_page(index.document, "", environments, workflows, filters))


class Document(Base):
    def get(self) -> None:
        self.json(self.catalogue.index.document)


class Schema(Base):
    def get(self) -> None:
        self.json(SCHEMA)


class Environments(Base):
    def get(self) -> None:
        query = EnvironmentQuery(
            self.args("package"),
            self.args("debian"),
            self.get_argument("q", ""),
            self.get_argument("variant", ""),
        )
        try:
            self.json(self.catalogue.index.environments(query))
        except QueryError as problem:
            raise web.HTTPError(400, str(problem)) from None


class Workflows(Base):
    def get(self) -> None:
        runnable = self.get_argument("runnable", "")
        if runnable not in ("", "true", "false"):
            raise web.HTTPError(400, "runnable must be true or false")
        query = WorkflowQuery(
            self.args("uses"),
            self.get_argument("environment", ""),
            None if not runnable else runnable == "true",
            self.get_argument("q", ""),
            self.get_argument("variant", ""),
        )
        try:
            self.json(self.catalogue.index.workflows(query))
        except QueryError as problem:
            raise web.HTTPError(400, str(problem)) from None


class Launch(Base):
    def prepare(self) -> None:
        if not self.current_user:  # always: a launch starts a server of the user's
            self.redirect(self.get_login_url())
            self.finish()

    def get(self, name: str) -> None:
        index = self.catalogue.index
        workflow = index.workflow(name)
        if workflow is None:
            raise web.HTTPError(404, f"no workflow {name!r} in the catalogue")
        if not workflow["runnable"]:
            raise web.HTTPError(409, f"workflow {name!r} is not runnable: {workflow['reason']}")
        environment = index.environment(workflow["environment_id"])
        if environment is None:
            raise web.HTTPError(409, f"environment {workflow['environment_id']} is not offered")
        self.redirect(launch_url(self.current_user["name"], workflow, environment, self.git_url))


def launch_url(user: str, workflow: dict[str, Any], environment: dict[str, Any], git: str) -> str:
    """The hub's spawn page of the user's server for the environment in its variant, the
    profile and variant chosen in the query, then (next) nbgitpuller in that server, opening
    the first notebook."""
    hub = os.environ.get("JUPYTERHUB_BASE_URL", "/")
    server = environment["server_name"]
    folder = workflow["name"]
    pull = {
        "repo": f"{git.rstrip('/')}/{workflow['served']}",
        "branch": workflow["branch"],
        "targetpath": folder,
        # A workspace of the workflow's own: the server's default one may hold other tabs
        # (a kernel dialog over the notebook), and the user's layout there stays theirs.
        "urlpath": f"lab/workspaces/{folder}/tree/{folder}/{workflow['notebooks'][0]}",
    }
    user_path = url_path_join(hub, "user", quote(user, safe=""), quote(server, safe=""))
    pull_url = url_path_join(user_path, "git-pull") + "?" + urlencode(pull)
    spawn = url_path_join(hub, "hub", "spawn", quote(user, safe=""), quote(server, safe=""))
    return f"{spawn}?{urlencode({**environment['spawn'], 'next': pull_url})}"


def make_app(document: Path, access: str, git_url: str) -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/catalogue/")
    settings = {"catalogue": CatalogueFile(document), "access": access, "git_url": git_url}
    routes: list[Any] = [
        (prefix, Page, settings),
        (url_path_join(prefix, "api/catalogue"), Document, settings),
        (url_path_join(prefix, "api/schema"), Schema, settings),
        (url_path_join(prefix, "api/environments"), Environments, settings),
        (url_path_join(prefix, "api/workflows"), Workflows, settings),
        (url_path_join(prefix, r"launch/([^/]+)"), Launch, settings),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
    ]
    return web.Application(routes, cookie_secret=secrets.token_bytes(32))


async def serve(args: argparse.Namespace) -> None:
    app = make_app(args.document, args.access, args.git_url)
    server = app.listen(args.port, address="127.0.0.1")
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop() -> None:
        loop.call_soon_threadsafe(stopped.set)

    when_orphaned(stop)  # the hub gone, even killed: the service ends too
    await stopped.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="the workflow catalogue service")
    parser.add_argument("--document", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--git-url", required=True)
    parser.add_argument("--access", choices=("public", "login"), default="public")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
