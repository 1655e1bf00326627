"""Users install packages at run time, in every image: `pip install` (and `%pip` in a notebook)
into the venv as any notebook user, and `pip install --user` into the home, which lasts."""

import re
import uuid

import pytest

from tests.containers.helpers import exec_text, make_wheel

# A wheel made by the test (the containers reach no index), installed from /tmp.
PACKAGE = "hubimages_probe"
WHEEL, WHEEL_BYTES = make_wheel(PACKAGE, "1.0")
FILES = {f"/tmp/{WHEEL}": (WHEEL_BYTES, 0o644, 0, 0)}
INSTALL = f"pip install --no-index --no-cache-dir --disable-pip-version-check /tmp/{WHEEL}"
WHERE = f"python -c 'import {PACKAGE} as p; print(p.VERSION, p.__file__)'"

# A project whose newest release needs Python >= 3.12, as numpy 2.5 and scipy 1.18 do: what a
# user's `pip install` gets depends on the image's Python (issue: the stack leaves 3.11 behind).
NEWER = "hubimages_newer"
NEWER_WHEELS: dict = {
    "/tmp/wheels": (None, 0o755, 0, 0),
    **{
        f"/tmp/wheels/{name}": (data, 0o644, 0, 0)
        for name, data in (
            make_wheel(NEWER, "1.0", ">=3.9"),
            make_wheel(NEWER, "2.0", ">=3.12"),
        )
    },
}
FIND = "pip install --no-index --no-cache-dir --disable-pip-version-check --find-links /tmp/wheels"


def test_the_newest_release_a_user_gets_is_the_one_for_the_images_python(
    containers, variant_python
) -> None:
    """3.12 or later: the newest; 3.11: pip picks the release before and refuses the newest,
    saying why."""
    newest = tuple(int(part) for part in variant_python.split(".")) >= (3, 12)
    which = f"python -c 'import {NEWER} as p; print(\"got\", p.VERSION)'"
    script = f"{FIND} {NEWER} >/dev/null && {which} && {FIND} {NEWER}==2.0 2>&1"
    result = containers.run(["bash", "-c", script], files=NEWER_WHEELS)
    got = re.search(r"^got (\S+)$", result.stdout, re.MULTILINE)
    assert got and got.group(1) == ("2.0" if newest else "1.0"), result.output
    if newest:
        assert result.exit_code == 0, result.output
    else:
        refused = "requires a different Python: " in result.output and "'>=3.12'" in result.output
        assert result.exit_code != 0 and refused, result.output


@pytest.mark.parametrize(
    ("user", "environment", "group_add"),
    [
        (None, {}, []),
        ("root", {"NB_UID": "1234"}, []),
        ("root", {"NB_USER": "alice", "NB_UID": "1234", "NB_GID": "2000"}, []),
        ("4321:100", {}, []),
        ("4321:0", {}, ["users"]),
    ],
    ids=[
        "jovyan",
        "root-start-nb-uid",
        "root-start-nb-user-gid",
        "uid-in-users",
        "uid-gid-0-group-added",
    ],
)
def test_pip_install_into_the_venv(containers, user, environment, group_add, variant_python):
    result = containers.run(
        ["bash", "-c", f"{INSTALL} && {WHERE}"],
        user=user,
        environment=environment,
        group_add=group_add,
        files=FILES,
    )
    assert result.exit_code == 0, result.output
    version, path = result.stdout.split()[-2:]
    assert version == "1.0"
    # The venv itself (under either of its names), not a user-site fallback.
    assert path.split("/site-packages/")[0] in {
        f"/opt/venv/lib/python{variant_python}",
        f"/opt/conda/lib/python{variant_python}",
    }, result.output


def test_pip_magic_in_a_notebook_kernel(containers):
    container = containers.start(["sleep", "infinity"], files=FILES)
    code, out = exec_text(
        container,
        "python -c 'from jupyter_client.manager import start_new_kernel\n"
        'km, kc = start_new_kernel(kernel_name="python3")\n'
        f'kc.execute_interactive("%pip install --no-index /tmp/{WHEEL}", timeout=120)\n'
        f'reply = kc.execute_interactive("import {PACKAGE}; print({PACKAGE}.VERSION)",'
        " timeout=30)\n"
        'print(reply["content"]["status"])\n'
        "kc.stop_channels(); km.shutdown_kernel(now=True)'",
    )
    assert code == 0, out
    assert out.split()[-2:] == ["1.0", "ok"], out


def test_pip_install_user_lasts_in_a_persistent_home(containers, docker_client, variant_python):
    """What README.md tells users: `pip install --user` goes to ~/.local, which a new container
    with the same home volume (a hub's next server) imports."""
    volume = docker_client.volumes.create(
        f"hubimages-test-{uuid.uuid4().hex[:12]}", labels={"hubimages.test": "1"}
    )
    home = {volume.name: {"bind": "/home/jovyan", "mode": "rw"}}
    try:
        first = containers.run(["bash", "-c", f"{INSTALL} --user"], volumes=home, files=FILES)
        assert first.exit_code == 0, first.output
        second = containers.run(["bash", "-c", WHERE], volumes=home)
        assert second.exit_code == 0, second.output
        version, path = second.stdout.split()[-2:]
        assert version == "1.0"
        user_site = f"/home/jovyan/.local/lib/python{variant_python}/site-packages/"
        assert path.startswith(user_site), path
    finally:
        containers.cleanup()
        volume.remove(force=True)


def test_the_venv_stays_writable_by_group_users(containers):
    # Every install step of every image ran fix-permissions: no entry of the venv (links aside)
    # outside group users or without group write, no folder without setgid. The same for the
    # home.
    checks = " ".join(
        f"find {folder} ! -type l \\( ! -group 100 -o ! -perm -g+w \\) -print;"
        f" find {folder} -type d ! -perm -g+s -print;"
        for folder in ("/opt/venv", "/home/jovyan")
    )
    result = containers.run(["bash", "-c", f"{checks} echo checked"], entrypoint=[])
    assert result.stdout.split() == ["checked"], result.stdout[:2000]


def test_what_a_user_creates_in_the_venv_stays_in_group_users(containers, venv_site):
    # docker-stacks' promise: a later start with another uid of the group can manage it.
    folder = f"{venv_site}/probe-dir"
    result = containers.run(
        [
            "bash",
            "-c",
            f"mkdir {folder} && touch {folder}/file && stat -c '%G %a' {folder} {folder}/file",
        ],
        user="1010:1010",
        group_add=["users"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["users", "2755", "users", "644"]
