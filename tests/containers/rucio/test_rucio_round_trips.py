"""Round trips between a lab session of the image and a real Rucio (server, PostgreSQL, two
WebDAV storages), the session configured only by the RUCIO_* variables of a spawner profile:
the `rucio` CLI and the Python API as a scientist uses them in a terminal or a notebook, with
a real FITS file of the shared SDC1 data.

A rule on the second RSE is REPLICATING when made (Rucio asks FTS for the copy); the
deployment's test transfer agent then does the copy FTS would do, over WebDAV between the two
storages, and the rule turns OK. The second RSE's copy is then downloaded and compared.
"""

from __future__ import annotations

import json
import re
import textwrap

from tests.containers.conftest import DATA_MOUNT
from tests.containers.rucio.lab import HOME, checksums

FITS = "B1_1000h_0.05tr.fits"  # 174 x 160 pixel cutout of the SDC1 560 MHz image
RULE_ID = re.compile(r"^([0-9a-f]{32})$", re.MULTILINE)


def rule_state(table: str, did: str, rse: str) -> str:
    """The state (OK, REPLICATING, ...) of the rule on `rse`, from `rucio rule list`."""
    row = re.search(
        rf"^\S+\s+\S+\s+{re.escape(did)}\s+([A-Z_]+)\[[0-9/]+\]\s+{rse}\s", table, re.MULTILINE
    )
    assert row, table
    return row.group(1)


def stored_files(site, index: int, name: str) -> list:
    """The files named `name` in an RSE's folder on the host: what the storage really holds."""
    return sorted(site.rses[index].folder.rglob(name))


def test_whoami_is_the_scientist(lab, rucio_site):
    code, out = lab.sh("rucio whoami")
    assert code == 0, out
    assert re.search(rf"^account\s*:\s*{rucio_site.account}$", out, re.MULTILINE), out
    assert re.search(r"^account_type\s*:\s*USER$", out, re.MULTILINE), out


def test_cli_round_trip(lab, rucio_site, local_rucio, sdc1_data):
    original = (sdc1_data / FITS).read_bytes()
    first, second = (rse.name for rse in rucio_site.rses)
    name = f"cli-{FITS}"
    did = f"{rucio_site.scope}:{name}"

    # The CLI's exit codes say 0 after several failures: its words are what is checked.
    code, out = lab.sh(
        f"rucio upload --rse {first} --scope {rucio_site.scope} --lfn {name} {DATA_MOUNT}/{FITS}"
    )
    assert code == 0 and "Successfully uploaded file" in out, out
    assert [p.read_bytes() for p in stored_files(rucio_site, 0, name)] == [original]

    code, out = lab.sh(f"rucio did list --filter type=all '{rucio_site.scope}:cli-*'")
    assert code == 0 and f"{did} " in out, out
    code, out = lab.sh(f"rucio did metadata list {did}")
    recorded = dict(re.findall(r"^(bytes|adler32|md5):\s+(\S+)$", out, re.MULTILINE))
    assert recorded == checksums(original), out

    code, out = lab.sh(f"rucio rule add {did} --copies 1 --rses {second}")
    assert code == 0 and RULE_ID.search(out), out
    code, out = lab.sh(f"rucio rule list --did {did}")
    assert rule_state(out, did, second) == "REPLICATING"

    copies = [c for c in local_rucio.transfer() if c["did"] == did]
    assert [(c["rse"], c["ok"]) for c in copies] == [(second, True)], copies
    assert [p.read_bytes() for p in stored_files(rucio_site, 1, name)] == [original]
    code, out = lab.sh(f"rucio rule list --did {did}")
    assert rule_state(out, did, second) == "OK"
    code, out = lab.sh(f"rucio replica list file {did}")
    assert f"{first}: https://" in out and f"{second}: https://" in out, out

    code, out = lab.sh(f"rucio download --rses {second} --dir cli-download {did}")
    assert code == 0 and "successfully downloaded" in out, out
    assert lab.read(f"{HOME}/cli-download/{rucio_site.scope}/{name}") == original


API_UPLOAD = """
import json, sys
from rucio.client import Client
from rucio.client.uploadclient import UploadClient
client = Client()
path, rse, scope, name, target = sys.argv[1:]
uploaded = UploadClient(client).upload([{"path": path, "rse": rse, "did_scope": scope,
                                         "did_name": name}])
meta = client.get_metadata(scope, name)
rule, = client.add_replication_rule([{"scope": scope, "name": name}], 1, target)
print(json.dumps({
    "whoami": client.whoami()["account"], "uploaded": uploaded,
    "listed": [d for d in client.list_dids(scope, {"name": "api-*"}, did_type="file")],
    "recorded": {key: str(meta[key]) for key in ("bytes", "adler32", "md5")},
    "rule": rule, "rule_state": client.get_replication_rule(rule)["state"]}))
"""

API_DOWNLOAD = """
import json, sys
from rucio.client import Client
from rucio.client.downloadclient import DownloadClient
client = Client()
scope, name, rule, rse, folder = sys.argv[1:]
replicas, = client.list_replicas([{"scope": scope, "name": name}])
done = DownloadClient(client).download_dids([{"did": f"{scope}:{name}", "base_dir": folder,
                                              "rse": rse}])
print(json.dumps({"rule_state": client.get_replication_rule(rule)["state"],
                  "replicas": sorted(replicas["rses"]),
                  "downloaded": [(d["clientState"], d["dest_file_paths"]) for d in done]}))
"""


def python(lab, script: str, *args: str) -> dict:
    quoted = " ".join(f"'{a}'" for a in args)
    code, out = lab.sh(f"python - {quoted} <<'EOF'\n{textwrap.dedent(script)}\nEOF")
    assert code == 0, out
    # Its JSON line; urllib3's warnings (stderr) may come after it.
    line = [x for x in out.strip().splitlines() if x.startswith("{")][-1]
    return json.loads(line)


def test_python_api_round_trip(lab, rucio_site, local_rucio, sdc1_data):
    original = (sdc1_data / FITS).read_bytes()
    first, second = (rse.name for rse in rucio_site.rses)
    scope, name = rucio_site.scope, f"api-{FITS}"

    up = python(lab, API_UPLOAD, f"{DATA_MOUNT}/{FITS}", first, scope, name, second)
    assert up["whoami"] == rucio_site.account
    assert up["uploaded"] == 0  # UploadClient's "all done"
    assert up["listed"] == [name]
    assert up["recorded"] == checksums(original)
    assert up["rule_state"] == "REPLICATING"

    copies = [c for c in local_rucio.transfer() if c["did"] == f"{scope}:{name}"]
    assert [(c["rse"], c["ok"]) for c in copies] == [(second, True)], copies

    down = python(lab, API_DOWNLOAD, scope, name, up["rule"], second, "api-download")
    assert down["rule_state"] == "OK"
    assert down["replicas"] == sorted([first, second])
    path = f"{HOME}/api-download/{scope}/{name}"
    assert down["downloaded"] == [["DONE", [path]]]
    assert lab.read(path) == original
