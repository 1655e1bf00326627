"""The Rucio JupyterLab extension's server side against a real Rucio, through its REST API as
the lab front end calls it: log in (userpass), list the scientist's scopes and DIDs, resolve a
file's replicas, and make a file available in download mode (the instance configuration comes
from RUCIO_* as in production), after which it is in the user's home."""

from __future__ import annotations

from tests.containers.conftest import DATA_MOUNT
from tests.containers.rucio.lab import HOME, checksums

FITS = "PrimaryBeam_B1.fits"  # the SDC1 primary-beam cutout


def test_instance_comes_from_the_environment(lab, rucio_site):
    body = lab.api_ok("GET", "instances")
    assert body["active_instance"] == rucio_site.name
    assert body["auth_type"] == "userpass"
    assert [(i["name"], i["mode"]) for i in body["instances"]] == [(rucio_site.name, "download")]


def test_scopes_rses_and_dids_are_listed(lab, rucio_site, sdc1_data):
    did = lab.upload(rucio_site, f"{DATA_MOUNT}/{FITS}", f"listed-{FITS}")
    assert rucio_site.scope in lab.api_ok("GET", "list-scopes")["scopes"]
    rses = lab.api_ok("GET", "list-rses", expression="*")
    assert sorted(rses, key=str) == [{"rse": rse.name} for rse in rucio_site.rses]
    found = lab.api_ok("GET", "did-search", did=f"{rucio_site.scope}:listed-*", type="all")
    size = (sdc1_data / FITS).stat().st_size
    assert found == [{"did": did, "size": size, "type": "file"}]


def test_make_available_downloads_the_file_into_the_home(lab, rucio_site, sdc1_data):
    original = (sdc1_data / FITS).read_bytes()
    name = f"ext-{FITS}"
    did = lab.upload(rucio_site, f"{DATA_MOUNT}/{FITS}", name)

    # The file browser's view: the DID's files, resolved through Rucio's replica catalogue.
    assert lab.api_ok("GET", "files", did=did, poll="1") == [{"did": did, "size": len(original)}]
    assert lab.file_status(did, {"NOT_AVAILABLE"}, timeout=0)["status"] == "NOT_AVAILABLE"

    assert lab.api_ok("POST", "did/make-available", {"did": did}) is None  # download mode
    status = lab.file_status(did, {"OK", "FAILED", "STUCK"})
    assert status["status"] == "OK", status
    path = str(status["path"])
    assert path.startswith(f"{HOME}/rucio/{rucio_site.name}/downloads/")
    assert path.endswith(f"/{rucio_site.scope}/{name}")
    assert checksums(lab.read(path)) == checksums(original)
    assert lab.read(path) == original
