"""The local Rucio deployment's test transfer agent: one pass of what FTS does for Rucio.

Rucio hands the copies a replication rule needs to FTS (through its conveyor daemons); FTS is in
neither Debian nor PyPI, and no Rucio transfer tool copies files itself. So, to see a rule on a
second RSE complete, this agent does the copy: for each replica lock of a rule still
REPLICATING, it reads the file from an available replica on another RSE and writes it to the
lock's RSE (HTTPS GET, then PUT, between the two real WebDAV storages), reads the copy back and
checks its size and Adler-32 against the catalogue (as FTS checks checksums), then marks the new
replica AVAILABLE; Rucio then sets the lock, and the rule, OK.

It is not FTS: no third-party copy, no queue, no retries, no conveyor daemons. Run with the
server's venv and a root client config (RUCIO_CONFIG); the site CA is given as RUCIO_SITE_CA and
root's client certificate (certificate and key in one file: the storages authorise root) as
X509_USER_PROXY. Prints one JSON line per lock and exits 1 if a copy failed (a lock with no
available replica to copy from is skipped: FTS would not be asked either).
"""

import json
import os
import sys
import zlib

import requests
from rucio.client import Client


def adler32(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


def copy_one(client: Client, lock: dict, verify: str, cert: str) -> dict:
    did = {"scope": lock["scope"], "name": lock["name"]}
    destination = lock["rse"]
    replica = next(iter(client.list_replicas([did], schemes=["https"], all_states=True)))
    sources = [
        pfns[0]
        for rse, pfns in replica["rses"].items()
        if rse != destination and pfns and replica["states"].get(rse) == "AVAILABLE"
    ]
    target = replica["rses"].get(destination, [None])[0]
    result = {"did": f"{did['scope']}:{did['name']}", "rse": destination, "ok": False}
    if not sources or target is None:  # e.g. an upload that never reached the storage
        return {**result, "skipped": "no available replica to copy from"}
    data = requests.get(sources[0], verify=verify, cert=cert, timeout=120)
    data.raise_for_status()
    requests.put(
        target, data=data.content, verify=verify, cert=cert, timeout=120
    ).raise_for_status()
    copied = requests.get(target, verify=verify, cert=cert, timeout=120)
    copied.raise_for_status()
    if len(copied.content) != replica["bytes"] or adler32(copied.content) != replica["adler32"]:
        return {**result, "error": "the copy's size or Adler-32 differs from the catalogue"}
    client.update_replicas_states(destination, [{**did, "state": "A"}])
    return {
        **result,
        "ok": True,
        "bytes": len(copied.content),
        "source": sources[0],
        "destination": target,
    }


def main() -> int:
    client = Client()
    verify = os.environ["RUCIO_SITE_CA"]
    cert = os.environ["X509_USER_PROXY"]
    failed = 0
    # The REST layer wants the state's letter: "REPLICATING" gives a server error.
    for rule in client.list_replication_rules({"state": "R"}):
        for lock in client.list_replica_locks(rule["id"]):
            if lock["state"] != "REPLICATING":
                continue
            try:
                outcome = copy_one(client, lock, verify, cert)
            except (requests.RequestException, OSError) as error:
                outcome = {
                    "did": f"{lock['scope']}:{lock['name']}",
                    "rse": lock["rse"],
                    "ok": False,
                    "error": str(error),
                }
            failed += not outcome["ok"] and "skipped" not in outcome
            print(json.dumps(outcome), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
