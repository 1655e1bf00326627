"""Set up the catalogue of the local Rucio deployment. Run with the server's venv by
hubimages/services/rucio/ (not imported by the build tool: Rucio is not in its environment).

    bootstrap.py schema            with RUCIO_CONFIG=<the server's rucio.cfg>: create the tables
                                   (alembic-stamped), the base VO and the root account
    bootstrap.py populate SPEC     with RUCIO_CONFIG=<a root client config>: through the REST
                                   API, as a site admin would

SPEC is a JSON file (mode 600): {"accounts": [{"account", "email", "password", "scope",
"oidc_identity"}], "quota_bytes", "rses": [{"name", "hostname", "port"}, ...]}. populate adds
each user's account with a userpass identity (and an OIDC one, "SUB=<sub>, ISS=<issuer>", when
the site trusts an identity provider), its scope, each RSE with one WebDAV-over-HTTPS protocol,
a quota for every account and for root on every RSE (without one, uploads and rules fail with
"insufficient quota") and a distance between every pair of RSEs (rules between them need one).
"""

import json
import sys
from itertools import permutations
from pathlib import Path

WEBDAV = "rucio.rse.protocols.webdav.Default"
ALL_OPERATIONS = {"read": 1, "write": 1, "delete": 1}


def schema() -> None:
    from rucio.db.sqla.util import build_database, create_base_vo, create_root_account

    build_database()
    create_base_vo()
    create_root_account()


def add_user(client, user: dict) -> None:
    """A USER account with its identities and scope."""
    account = user["account"]
    client.add_account(account, "USER", user["email"])
    client.add_identity(
        account=account,
        identity=account,
        authtype="USERPASS",
        email=user["email"],
        password=user["password"],
        default=True,
    )
    if user.get("oidc_identity"):
        client.add_identity(
            account=account, identity=user["oidc_identity"], authtype="OIDC", email=user["email"]
        )
    client.add_scope(account, user["scope"])


def populate(spec: dict) -> None:
    from rucio.client import Client

    client = Client()
    for user in spec["accounts"]:
        add_user(client, user)
    for rse in spec["rses"]:
        client.add_rse(rse["name"], deterministic=True)
        client.add_protocol(
            rse["name"],
            {
                "scheme": "https",
                "hostname": rse["hostname"],
                "port": rse["port"],
                "prefix": "/",
                "impl": WEBDAV,
                "domains": {
                    "lan": ALL_OPERATIONS,
                    "wan": {
                        **ALL_OPERATIONS,
                        "third_party_copy_read": 1,
                        "third_party_copy_write": 1,
                    },
                },
            },
        )
        for owner in [user["account"] for user in spec["accounts"]] + ["root"]:
            client.set_local_account_limit(owner, rse["name"], spec["quota_bytes"])
    for source, destination in permutations([rse["name"] for rse in spec["rses"]], 2):
        client.add_distance(source, destination, {"distance": 1})


if __name__ == "__main__":
    if sys.argv[1:] == ["schema"]:
        schema()
    elif len(sys.argv) == 3 and sys.argv[1] == "populate":
        populate(json.loads(Path(sys.argv[2]).read_text()))
    else:
        sys.exit("usage: bootstrap.py schema | populate SPEC.json")
