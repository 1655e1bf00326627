"""Checks every image of the matrix must pass; run against each --image-ref given."""

import json
import re
import shlex

import pytest

from hubimages.builder.labels import DEBIAN_SUITE
from tests.containers.helpers import (
    START_UP_DONE,
    exec_text,
    http_get,
    layer_paths,
    logs,
    problem_lines,
    put_files,
    wait_for_log,
)

# Top-level modules that exist in a distribution's files but are not meant to be imported on
# their own; distribution -> {module: reason}.
NOT_IMPORTABLE = {
    "pip": {"_vendor": "pip's private vendored copies, not a public module"},
}
# Distributions that import an optional package their users bring: checked only where it is
# installed; distribution -> module it needs.
NEEDS_OPTIONAL = {
    "matplotlib-inline": "matplotlib",  # IPython's inline backend *for* matplotlib
}

# Runs inside the container with /opt/venv's Python: maps every installed distribution to the
# top-level modules it provides (importlib.metadata's own mapping) and imports them in this one
# interpreter (fast), re-trying a failure in a fresh one; a distribution without modules must
# have a console script that runs with --help.
IMPORT_CHECK = r"""
import importlib, importlib.metadata as md, importlib.util, json, os, subprocess, sys, sysconfig
import warnings

warnings.simplefilter("ignore")
skip, needs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
modules = {}
for module, dists in md.packages_distributions().items():
    for dist in dists:
        modules.setdefault(dist.lower().replace("_", "-"), set()).add(module)

# Listed before importing anything: imports may extend sys.path (setuptools adds its vendored
# distributions), and only what is installed in the venv counts.
site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
dists = list(md.distributions(path=sorted(site)))
failures, checked = [], 0
for dist in dists:
    name = dist.metadata["Name"].lower().replace("_", "-")
    ignored = skip.get(name, {})
    if name in needs and importlib.util.find_spec(needs[name]) is None:
        continue
    tops = sorted(m for m in modules.get(name, ()) if m not in ignored and m.isidentifier())
    for module in tops:
        checked += 1
        try:
            importlib.import_module(module)
        except BaseException:
            # Imports can interfere (e.g. stdlib distutils loaded before setuptools' shim):
            # only a failure in a fresh interpreter counts.
            proc = subprocess.run(
                [sys.executable, "-W", "ignore", "-c", f"import {module}"],
                capture_output=True, text=True,
            )
            if proc.returncode:
                failures.append(f"{name}: import {module}: {proc.stderr.strip()[-600:]}")
    if tops:
        continue
    scripts = [ep.name for ep in dist.entry_points if ep.group == "console_scripts"]
    if scripts:
        checked += 1
        script = os.path.join(sys.prefix, "bin", scripts[0])
        proc = subprocess.run([script, "--help"], capture_output=True, text=True)
        if proc.returncode:
            failures.append(f"{name}: {scripts[0]} --help: {proc.stderr.strip()[-600:]}")
    elif not ignored:
        failures.append(f"{name}: neither an importable module nor a console script")
print(json.dumps({"checked": checked, "failures": failures}))
"""


@pytest.fixture(scope="module")
def idle(module_containers):
    """A container of the image that just sleeps: for inspection without a server."""
    return module_containers.start(["sleep", "infinity"])


def test_every_distribution_imports_or_runs(idle):
    put_files(idle, {"/tmp/import_check.py": (IMPORT_CHECK, 0o644, 0, 0)})
    args = " ".join(shlex.quote(json.dumps(arg)) for arg in (NOT_IMPORTABLE, NEEDS_OPTIONAL))
    code, out = exec_text(idle, f"cd /tmp && python import_check.py {args}")
    assert code == 0, out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["checked"] > 0
    assert report["failures"] == [], "\n".join(report["failures"])


def test_pip_check(idle):
    code, out = exec_text(idle, "python -m pip check --disable-pip-version-check")
    assert code == 0, out


def test_python_and_debian_are_the_variants(image, idle, variant_python):
    """What the matrix variant promises (its labels): Debian's suite, and the venv on that
    suite's python3 (Debian's own: /usr/bin/python3)."""
    labels = image.labels or {}
    code, out = exec_text(
        idle,
        "python -c 'import sys, platform; print(sys.base_prefix, platform.python_version())'"
        " && . /etc/os-release && echo $VERSION_CODENAME && /usr/bin/python3 --version",
    )
    assert code == 0, out
    base_prefix, version, codename, _, debian_python = out.split()
    assert base_prefix == "/usr"
    assert version.startswith(f"{variant_python}.")
    assert debian_python == version
    assert codename == labels[DEBIAN_SUITE]


def test_default_user_is_uid_1000(image, idle):
    assert image.attrs["Config"]["User"] in {"1000", "1000:100"}
    code, out = exec_text(idle, "id -u; id -g")
    assert (code, out.split()) == (0, ["1000", "100"])


def test_server_starts_and_api_answers(server):
    response = http_get(f"http://{server.ip}:8888/api")
    assert response.status == 200
    assert "version" in response.json()


def test_clean_start_has_no_warnings_or_errors(containers):
    container = containers.server()
    wait_for_log(container, START_UP_DONE)  # lines logged just after the server is up
    assert problem_lines(logs(container)) == []


def test_no_wheels_outside_debian_packages(idle):
    # Debian's python3-pip-whl/python3-setuptools-whl ship wheels for `python3 -m venv`.
    code, out = exec_text(
        idle,
        "find / -xdev -name '*.whl' -print 2>/dev/null"
        ' | while read -r f; do dpkg -S "$f" >/dev/null 2>&1 || echo "$f"; done',
    )
    assert code == 0, out
    assert out.split() == []


def test_no_pip_caches_or_build_leftovers(idle):
    _, out = exec_text(
        idle,
        "ls -d /root/.cache /home/*/.cache/pip /tmp/pip-* /tmp/*.whl /opt/venv/*.whl 2>/dev/null",
        user="root",
    )
    assert out.split() == []


def test_no_extra_ca_certificates(idle):
    _, out = exec_text(
        idle,
        "find /usr/local/share/ca-certificates -type f 2>/dev/null;"
        " find /usr/share/ca-certificates -type f | while read -r f; do"
        ' dpkg -S "$f" >/dev/null 2>&1 || echo "$f"; done;'
        " find /etc/ssl/certs -type f ! -name ca-certificates.crt;"
        " env | grep -E '^(SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PIP_CERT)='",
    )
    assert out.split() == []


# What a build uses but an image must not keep, in any layer (a file removed by a later layer
# still counts: it is pulled with the layer that added it).
BUILD_LEFTOVERS = re.compile(
    r"^(tmp/.+|root/\.cache/.+|.*\.whl|.*/tornado/test/.*"
    r"|.*(strip-symtab\.py|debian-packages\.txt|local-wheels\.yaml"
    r"|requirements(\.[a-z0-9._-]+)?\.(in|lock))"
    r"|.*/sdc1-pipeline/(tests|\.ruff_cache)(/.*)?)$"
)


def test_no_build_file_is_left_in_any_layer(docker_client, image) -> None:
    found = [
        f"{layer[:12]}: {path}"
        for layer, path in layer_paths(docker_client, image.id)
        if BUILD_LEFTOVERS.match(path.removeprefix("./"))
    ]
    assert found == [], found[:20]
