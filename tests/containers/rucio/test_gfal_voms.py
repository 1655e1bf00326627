"""gfal2 and the VOMS clients of the rucio stack, as a user runs them (jovyan, no internet).

Transfers go to a real storage endpoint: xrootd from Debian (tests/services/xrootd), which
answers WebDAV and RFC 3230 Want-Digest over HTTP, on an internal network of this module; the
image under test reaches it as `storage` and nothing else. The proxies are made from a test CA
that the test creates in the container with openssl.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap

import pytest

from tests.containers.services import (
    service_image,
    service_network,
    service_parent,
    wait_for_http,
)

ROOT = "/srv/data"

# Upload, checksum, listing, download and a wrong checksum, with the gfal-* CLI and with the
# gfal2 Python API; prints one JSON line.
TRANSFERS = textwrap.dedent(
    r"""
    import json, os, subprocess, tempfile, zlib
    import gfal2

    work = tempfile.mkdtemp()
    data = os.urandom(3_000_000)
    source = os.path.join(work, "data.bin")
    with open(source, "wb") as out:
        out.write(data)
    adler = "%08x" % zlib.adler32(data)
    http, dav, root = "http://storage:8080/srv/data", "dav://storage:8080/srv/data", \
        "root://storage:1094//srv/data"

    def gfal(*args):
        done = subprocess.run(["gfal-" + args[0], *args[1:]], capture_output=True, text=True)
        return {"rc": done.returncode, "out": (done.stdout + done.stderr).strip()[-400:]}

    res = {"adler32": adler}
    res["upload"] = gfal("copy", "-K", "ADLER32", f"file://{source}", f"{http}/up.bin")
    res["sum_http"] = gfal("sum", f"{http}/up.bin", "ADLER32")
    res["sum_root"] = gfal("sum", f"{root}/up.bin", "ADLER32")
    res["list"] = gfal("ls", "-l", f"{dav}/")
    back = os.path.join(work, "back.bin")
    res["download"] = gfal("copy", "-K", "ADLER32", f"{dav}/up.bin", f"file://{back}")
    res["identical"] = open(back, "rb").read() == data
    res["wrong_sum"] = gfal("copy", "-K", "ADLER32:00000001", "--checksum-mode", "target",
                            f"{http}/up.bin", f"file://{work}/wrong.bin")

    # The Python API, as rucio's gfal protocol uses it.
    ctx = gfal2.creat_context()
    params = ctx.transfer_parameters()
    params.overwrite = True
    params.set_checksum(gfal2.checksum_mode.both, "ADLER32", "")
    ctx.filecopy(params, f"file://{source}", f"{root}/api.bin")
    res["api_sum"] = ctx.checksum(f"{http}/api.bin", "ADLER32")
    res["api_size"] = ctx.stat(f"{http}/api.bin").st_size
    ctx.unlink(f"{http}/api.bin")
    res["removed"] = gfal("stat", f"{http}/api.bin")["rc"]
    res["plugins"] = sorted(p.split("-")[0] for p in ctx.get_plugin_names())
    import rucio.rse.protocols.gfal as protocol
    res["rucio_protocol"] = protocol.__name__
    print("GFAL_JSON:" + json.dumps(res))
    """
)


@pytest.fixture(scope="module")
def storage_network(docker_client, image):
    """The name of an internal network holding a running xrootd reachable as `storage`."""
    image_id = service_image(
        docker_client, "xrootd", service_parent(docker_client, "xrootd", image)
    )
    with service_network(docker_client) as network:
        storage = network.start(image_id, "storage")
        wait_for_http(storage, f"http://{storage.ip}:8080{ROOT}/")
        yield network.name


@pytest.fixture(scope="module")
def transfers(module_containers, storage_network) -> dict:
    result = module_containers.run(
        ["python", "-c", TRANSFERS], timeout=180, network=storage_network
    )
    assert result.exit_code == 0, result.output[-4000:]
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("GFAL_JSON:")]
    assert line, result.output[-4000:]
    return json.loads(line[-1].removeprefix("GFAL_JSON:"))


def test_upload_checks_checksums_end_to_end(transfers) -> None:
    assert transfers["upload"]["rc"] == 0, transfers["upload"]
    # What the storage computed, over HTTP (Want-Digest) and over root://.
    assert transfers["sum_http"]["out"].split()[-1] == transfers["adler32"], transfers
    assert transfers["sum_root"]["out"].split()[-1] == transfers["adler32"], transfers


def test_webdav_listing_and_download(transfers) -> None:
    assert transfers["list"]["rc"] == 0, transfers["list"]
    assert "3000000" in transfers["list"]["out"] and "up.bin" in transfers["list"]["out"]
    assert transfers["download"]["rc"] == 0, transfers["download"]
    assert transfers["identical"]


def test_a_wrong_checksum_fails_the_copy(transfers) -> None:
    assert transfers["wrong_sum"]["rc"] != 0
    assert "CHECKSUM MISMATCH" in transfers["wrong_sum"]["out"], transfers["wrong_sum"]


def test_python_api_and_rucio_protocol(transfers) -> None:
    assert transfers["api_sum"] == transfers["adler32"]
    assert transfers["api_size"] == 3_000_000
    assert transfers["removed"] != 0  # stat of the removed file fails
    assert {"file", "http", "xrootd"} <= set(transfers["plugins"]), transfers["plugins"]
    assert transfers["rucio_protocol"] == "rucio.rse.protocols.gfal"


def test_gfal_in_the_venv_not_debian_python(containers, variant_python) -> None:
    """The gfal-* scripts pick the venv's python (it imports gfal2). The venv sees Debian's
    site packages (base: the user site): gfal2 and gfal2_util are the only ones there."""
    command = (
        "import gfal2, gfal2_util, os, sys; "
        "print(os.path.realpath(sys.prefix), gfal2.get_version()); "
        "print(sorted(os.listdir('/usr/lib/python3/dist-packages')))"
    )
    result = containers.run(
        ["sh", "-c", f'python -c "{command}"; gfal-copy --version'], network_mode="none"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("/opt/venv ")
    # Debian's build for its python3, the variant's: the extension, the CLI's package, its egg-info.
    abi = variant_python.replace(".", "")
    names = ast.literal_eval(lines[1])
    assert len(names) == 3, names
    assert re.fullmatch(rf"gfal2\.cpython-{abi}-[a-z0-9_]+-linux-gnu\.so", names[0]), names
    assert names[1] == "gfal2_util"
    assert re.fullmatch(r"gfal2_util-[0-9.]+\.egg-info", names[2]), names
    assert "gfal2-util version" in result.output


# A test CA, a user and a VOMS server certificate (openssl), then the proxies a user makes.
VOMS = textwrap.dedent(
    r"""
    set -eu
    exec 2>&1  # one stream, in order
    cd "$(mktemp -d)"
    mkdir certs vomsdir vomsdir/testvo
    ca="/DC=org/DC=test/CN=Test CA"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "$ca" \
        -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
    printf 'keyUsage=critical,digitalSignature,keyEncipherment,dataEncipherment\n' > leaf.ext
    for who in user voms.test; do
        openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" \
            -subj "/DC=org/DC=test/CN=$who" 2>/dev/null
        openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile leaf.ext -out "$who.pem" 2>/dev/null
        chmod 0400 "$who.key"
    done
    hash=$(openssl x509 -noout -hash -in ca.pem)
    cp ca.pem "certs/$hash.0"
    policy="certs/$hash.signing_policy"
    printf "access_id_CA X509 '%s'\npos_rights globus CA:sign\n" "$ca" > "$policy"
    printf "cond_subjects globus '\"/DC=org/DC=test/*\"'\n" >> "$policy"
    printf '/DC=org/DC=test/CN=voms.test\n%s\n' "$ca" > vomsdir/testvo/voms.test.lsc
    export X509_CERT_DIR="$PWD/certs" X509_VOMS_DIR="$PWD/vomsdir" X509_USER_PROXY="$PWD/proxy"

    echo "== no proxy"
    voms-proxy-info || echo "rc=$?"
    echo "== plain proxy"
    voms-proxy-init -rfc -cert user.pem -key user.key -valid 1:00 -quiet
    voms-proxy-info -subject -type
    voms-proxy-info -exists -valid 0:30 && echo "valid for 30 min"
    echo "== proxy with a VOMS attribute certificate"
    voms-proxy-fake -rfc -cert user.pem -key user.key -hostcert voms.test.pem \
        -hostkey voms.test.key -voms testvo -fqan /testvo/Role=NULL/Capability=NULL \
        -uri voms.test:15000 -out "$X509_USER_PROXY" -hours 1 >fake.log 2>&1 ||
        { cat fake.log; exit 1; }
    voms-proxy-info -vo -fqan -acexists testvo
    voms-proxy-destroy
    voms-proxy-info -exists || echo "destroyed rc=$?"
    """
)


def test_voms_proxies(containers) -> None:
    result = containers.run(["bash", "-c", VOMS], network_mode="none", timeout=120)
    assert result.exit_code == 0, result.output
    out = result.stdout
    no_proxy, plain, voms = re.split(r"^== ", out, flags=re.MULTILINE)[1:4]
    assert "Couldn't find a valid proxy" in no_proxy and "rc=1" in no_proxy, out
    assert re.search(r"^/DC=org/DC=test/CN=user/CN=\d+$", plain, re.MULTILINE), out
    assert "RFC compliant proxy" in plain and "valid for 30 min" in plain, out
    lines = voms.splitlines()
    assert "testvo" in lines and "/testvo/Role=NULL/Capability=NULL" in lines, out
    assert "destroyed rc=1" in voms, out
