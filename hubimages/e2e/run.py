"""The whole end-to-end run: the release in a registry of its own, a real Rucio with the
scientist's data in it, a site package index, a real hub, and a browser session.

The images are pushed as built (the container tests are not rerun: this run is a test itself,
and its registry serves nobody else). Everything it starts (registry, Rucio, index, hub, proxy,
user servers, browser) is stopped when it ends, also when a step fails or on Ctrl-C.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import docker

from hubimages.builder.run import BuildRun
from hubimages.builder.scheduler import build_variants, failed
from hubimages.core.data import require_sdc1_data
from hubimages.core.ports import free_port
from hubimages.deps.lockfile import load_lock
from hubimages.e2e.browser import Console, open_browser
from hubimages.e2e.checks import SITE_PACKAGE, pip_install, score_line
from hubimages.e2e.oidc import oidc_session
from hubimages.e2e.parts import USER, E2EReport, Services, fetch_with_panel, server_log
from hubimages.e2e.scientist import (
    choose_profile,
    lab_ready,
    log_in,
    run_notebook,
    sky_view,
    stop_server,
)
from hubimages.e2e.session import Session, StepError
from hubimages.e2e.workflow_launch import launch_workflow
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order
from hubimages.publish.catalogue import DOCUMENT
from hubimages.publish.profiles import DOCKERSPAWNER_FILE
from hubimages.publish.publisher import Publisher
from hubimages.publish.records import Release
from hubimages.publish.release import publish_variants
from hubimages.publish.store import ReleaseStore
from hubimages.publish.target import RegistryTarget
from hubimages.publish.trust.keys import SiteKeys, generate
from hubimages.services.catalogue.hubconfig import CatalogueService
from hubimages.services.hub import LocalHub
from hubimages.services.idp.provider import LocalIdp
from hubimages.services.idp.site import IdpSite
from hubimages.services.localregistry import LocalRegistry
from hubimages.services.rucio.deployment import LocalRucio, service_files
from hubimages.services.simpleindex import serving, write_index
from hubimages.services.tls import SiteCA
from hubimages.verify.workflow_source import prepare_sources
from hubimages.verify.workflows import WorkflowContext, prove_workflows

log = logging.getLogger(__name__)

EXAMPLE = "sdc1-example.ipynb"  # copied into the home by images/sdc1's start hook
DATA_FILE = "PrimaryBeam_B1.fits"  # of the SDC1 data: what the scientist has in Rucio
SECOND_FILE = "B1_1000h_0.05tr.fits"  # fetched after the first access token expired (oidc)


# A view on the SDC1 field with one source marked, as a scientist starts one. Aladin Lite's
# survey tiles and survey list come from CDS servers on the internet: here they cannot load.
SKY_VIEW = (
    "from astropy.table import Table; from ipyaladin import Aladin; "
    "aladin = Aladin(target='359.664 -29.673', fov=0.05, height=400); "
    "aladin.add_table(Table({'ra': [359.664], 'dec': [-29.673]})); aladin"
)
SKY_VIEW_CENTRE = "23 58 39"  # the view's centre as Aladin Lite shows it (sexagesimal RA)


def run_e2e(
    runs: list[BuildRun], proxy_source: Path, profile: str = "sdc1", auth: str = "shared-password"
) -> E2EReport:
    """Every variant of `runs` released and offered; the session spawns the default variant
    (or the first of `runs` when the default is not among them)."""
    report = E2EReport()
    run = next((r for r in runs if r.matrix.variant.default), runs[0])
    folder = run.cache.e2e
    for old in folder.glob("*.png"):  # screenshots of an earlier run would mislead
        old.unlink()
    with ExitStack() as stack:
        releases, store = stack.enter_context(_release(runs, run, folder, profile))
        release = releases[run.matrix.variant.name]
        report.release = release.tag
        services = stack.enter_context(_services(run, folder, proxy_source, store, auth))
        try:
            if auth == "oidc":
                oidc_session(run, services, release, profile, folder, report)
            else:
                _session(run, services, releases, profile, folder, report)
        except StepError as failure:
            failure.server_log = server_log(services.hub.name, USER)
            failure.done = list(report.steps)
            raise
    return report


@contextmanager
def _release(
    runs: list[BuildRun], spawned: BuildRun, folder: Path, profile: str
) -> Iterator[tuple[dict[str, Release], ReleaseStore]]:
    """Every image of the matrix in every variant of `runs`, built, pushed to a registry of
    the run's own, signed with its SBOM and provenance by a key of the run's own; each
    variant's release, and the records (profiles, whose hook verifies each image before the
    spawn; catalogue). The registry starts empty (a release tag is immutable, and a rebuild
    from the same commit has it) and nothing of it stays. The profile's workflows in the
    spawned variant run headless first (or passed at these image ids): the catalogue offers
    them."""
    sources = prepare_sources(spawned.matrix, spawned.cache)
    results = build_variants(runs, None)
    if failed(results):
        raise HubImagesError("the build failed: nothing was pushed")
    variant = spawned.matrix.variant.name
    image_id = next(
        (r.image_id or "" for r in results if (r.name, r.variant) == (profile, variant)), ""
    )
    if not image_id:
        raise HubImagesError(f"--profile {profile}: variant {variant} does not build it")
    context = WorkflowContext(spawned.client, spawned.matrix, spawned.cache, sources)
    for record in prove_workflows(context, profile, image_id):
        if not record.passed:
            raise HubImagesError(f"workflow {record.workflow} failed: {record.failure}")
    storage = folder / "registry"
    shutil.rmtree(storage, ignore_errors=True)
    registry = LocalRegistry(storage, port=free_port())
    registry.start()
    # A site key of the run's own: the hub's spawn hook verifies every image against it.
    keys = SiteKeys(folder / "keys")
    shutil.rmtree(keys.folder, ignore_errors=True)
    generate(keys)
    publishers = [
        Publisher(
            run.matrix,
            run.cache,
            RegistryTarget(registry.host, "e2e"),
            allow_dirty=True,
            require_tests=False,
            keys=keys,
        )
        for run in runs
    ]
    try:
        done = publish_variants(publishers, [build_order(run.matrix) for run in runs])
        releases = {release.variant: release for release in done}
        yield releases, publishers[0].store
    finally:
        registry.stop()
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(publishers[0].store.folder, ignore_errors=True)
        shutil.rmtree(keys.folder, ignore_errors=True)


@contextmanager
def _services(
    run: BuildRun, folder: Path, proxy_source: Path, store: ReleaseStore, auth: str
) -> Iterator[Services]:
    """Rucio on an internal network, which the hub's user servers and the index share; with
    auth "oidc", an identity provider of the run's own, which the hub and Rucio trust."""
    name = f"e2e-{run.matrix.settings.namespace.replace('/', '-')}"
    data = require_sdc1_data(run.matrix.root)
    with ExitStack() as stack:
        idp = stack.enter_context(_provider(run, folder, name)) if auth == "oidc" else None
        rucio = LocalRucio(
            service_files(run.matrix.root),
            run.cache,
            name,
            run.matrix.settings.index_url,
            docker.from_env(),
            internal=True,
            idp=idp,
        )
        site = stack.enter_context(rucio)
        index_url = stack.enter_context(_site_index(folder, site.gateway))
        dids = (
            rucio.upload(data / DATA_FILE, f"e2e-{DATA_FILE}"),
            rucio.upload(data / SECOND_FILE, f"e2e-{SECOND_FILE}"),
        )
        # The workflow catalogue (the release wrote it) and its git server, as `invoke hub`.
        catalogue = CatalogueService(store.catalogue / DOCUMENT, run.cache.workflow_repositories)
        hub = LocalHub(
            folder / "hub",
            proxy_source,
            store.profiles / DOCKERSPAWNER_FILE,
            port=free_port(),
            name=f"hubimages-{name}",
            network=site.network,
            idp=idp,
            rucio=site,
            # sessions pip install from the index, and clone from the git server
            open_ports=(int(urlsplit(index_url).port or 80), catalogue.git_port),
            extra_config=catalogue.config(),
        )
        stack.callback(hub.stop, True)  # the homes too: nothing of the run stays
        hub.start()
        sizes = ((data / DATA_FILE).stat().st_size, (data / SECOND_FILE).stat().st_size)
        yield Services(
            hub, site, dids, sizes, index_url, idp, folder / "idp" / "tls" / "server.pem"
        )


@contextmanager
def _provider(run: BuildRun, folder: Path, name: str) -> Iterator[IdpSite]:
    provider = LocalIdp(
        run.matrix.root / "services" / "idp",
        folder / "idp",
        SiteCA(run.cache.site_ca),
        name,
        docker.from_env(),
    )
    try:
        yield provider.start()
    finally:
        provider.stop()


@contextmanager
def _site_index(folder: Path, host: str) -> Iterator[str]:
    root = folder / "site-index"
    shutil.rmtree(root, ignore_errors=True)
    (root / "files").mkdir(parents=True)
    write_index(root, [SITE_PACKAGE.write(root / "files")])
    with serving(root, host) as url:
        yield url


def _session(
    run: BuildRun,
    services: Services,
    releases: dict[str, Release],
    profile: str,
    shots: Path,
    report: E2EReport,
) -> None:
    """In the spawned variant (run's); the launch link's catalogue offers every variant."""
    release = releases[run.matrix.variant.name]
    hub = services.hub
    console = Console()
    with open_browser(console) as page:
        session = Session(page, console, shots)
        report.steps = session.steps
        log_in(session, hub.url, USER, hub.password)
        choose_profile(session, hub.url, run.matrix, release, profile)
        if "verified " not in hub.log_path.read_text(errors="replace"):
            raise StepError(
                "spawn",
                "the hub spawned without verifying the image (no 'verified' in its log)",
                console.tail(),
                session.steps[-1].screenshot,
            )
        lab_ready(session)
        if console.errors:
            raise StepError(
                "lab",
                f"the browser console has errors: {console.errors[:3]}",
                console.tail(),
                session.steps[-1].screenshot,
            )
        report.outputs = run_notebook(session, f"{hub.url}/user/{USER}", EXAMPLE)
        report.score = score_line(report.outputs)
        if not report.score:
            raise StepError(
                "run-all",
                "the notebook printed no SDC1 score ('ours: score=...')",
                console.tail(),
                session.steps[-1].screenshot,
            )
        fetch_with_panel(session, services, services.dids[0], services.sizes[0])
        pip_install(session, services.index_url)
        if console.errors:
            raise StepError(
                "console",
                f"the browser console has errors: {console.errors[:3]}",
                console.tail(),
                session.steps[-1].screenshot,
            )
        if _has_module(run, profile, "ipyaladin"):  # last: it reaches for the internet
            sky_view(session, SKY_VIEW, SKY_VIEW_CENTRE)
        stop_server(session, hub.url)
        report.launch = launch_workflow(session, run.matrix, hub, USER, releases, profile)


def _has_module(run: BuildRun, image: str, project: str) -> bool:
    """Whether the image's lock pins the project (the science stacks are not in every image)."""
    return project in load_lock(run.matrix, image).versions()
