"""No way to root for the notebook user: not through /etc/passwd (the arbitrary-uid support),
su, sudo, the hooks and scripts root runs, nor the user-writable venv."""

import docker.errors
import pytest

from tests.containers.helpers import logs, wait_for_health

# Users a runtime may start the image as: the image's uid in group root (the reported case),
# OpenShift's arbitrary uid in group root, an arbitrary uid in group users.
USERS = ["1000:0", "1234:0", "1234:100"]
# What root reads or runs at a root start, and what sudo trusts.
ROOT_OWNED = [
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/pam.d",
    "/etc/jupyter",
    "/usr/local/bin",
    "/usr/local/sbin",
]

# Become root with an empty root password, or with a password of ours: in /etc/passwd (the
# docker-stacks way would allow it: it is group-root writable there), in nss_wrapper's copy
# (ours, for a uid without entry), then su and sudo. Prints ROOT for each success.
ATTACK = r"""
hash=$(openssl passwd -6 letmein)
for file in /etc/passwd "${NSS_WRAPPER_PASSWD:-}"; do
    [ -n "$file" ] || continue
    sed "s|^root:[^:]*:|root::|" /etc/passwd > /tmp/p && cat /tmp/p > "$file" && echo "wrote $file"
    [ "$(su -c 'id -u' root </dev/null 2>/dev/null)" = 0 ] && echo ROOT empty-su
    sed "s|^root:[^:]*:|root:$hash:|" /etc/passwd > /tmp/p && cat /tmp/p > "$file"
    [ "$(echo letmein | su -c 'id -u' root 2>/dev/null)" = 0 ] && echo ROOT hash-su
    [ "$(echo letmein | sudo -S id -u 2>/dev/null)" = 0 ] && echo ROOT sudo
done
[ "$(sudo -n id -u 2>/dev/null)" = 0 ] && echo ROOT sudo-n
id -u
"""


@pytest.mark.parametrize("user", USERS)
def test_the_passwd_attack_does_not_give_root(containers, user):
    result = containers.run(["sh", "-c", ATTACK], user=user)
    assert result.exit_code == 0, result.output
    assert "ROOT" not in result.stdout, result.output
    assert "wrote /etc/passwd" not in result.stdout
    assert result.stdout.split()[-1] != "0"
    if user == "1234:0":  # the entry nss_wrapper serves is the user's own copy, and useless
        assert "wrote /tmp/passwd-1234." in result.stdout


@pytest.mark.parametrize("user", USERS)
def test_root_owned_files_are_not_writable(containers, user):
    folders = " ".join(ROOT_OWNED)
    result = containers.run(
        ["sh", "-c", f"find {folders} -writable 2>/dev/null; echo checked"], user=user
    )
    assert result.stdout.split() == ["checked"], result.output


def test_sudo_is_the_only_set_uid_program(containers):
    result = containers.run(["sh", "-c", "find / -xdev -type f -perm /6000 2>/dev/null"])
    assert result.stdout.split() == ["/usr/bin/sudo"]


def test_pam_takes_no_empty_password_and_root_is_locked(containers):
    result = containers.run(
        ["sh", "-c", "grep -l nullok /etc/pam.d/*; passwd -S root"], user="root", entrypoint=[]
    )
    assert result.stdout.split()[:2] == ["root", "L"], result.output


# A wrapper planted by the user in the venv under the name of every system command: it leaves a
# mark when root runs it, then runs the real command.
PLANT = r"""
for real in /usr/local/sbin/* /usr/local/bin/* /usr/sbin/* /usr/bin/* /sbin/* /bin/*; do
    name=${real##*/}
    [ -f "$real" ] && [ -x "$real" ] && [ ! -e "/opt/venv/bin/$name" ] || continue
    printf '#!/bin/sh\n[ "$(/usr/bin/id -u)" != 0 ] || /usr/bin/touch /tmp/run-as-root\n' \
        > "/opt/venv/bin/$name"
    printf 'exec %s "$@"\n' "$real" >> "/opt/venv/bin/$name"
    chmod 755 "/opt/venv/bin/$name"
done
echo planted
"""


def test_the_planted_wrappers_catch_root(containers):
    result = containers.run(
        [
            "sh",
            "-c",
            f"{PLANT} PATH=/opt/venv/bin:$PATH id -u; /usr/bin/test -e /tmp/run-as-root"
            " && echo caught",
        ],
        user="root",
        entrypoint=[],
    )
    assert result.stdout.split() == ["planted", "0", "caught"], result.output


def test_root_runs_nothing_the_user_put_in_the_venv(containers):
    # Started as root with the root-start options: start.sh, the image's hooks and the
    # HEALTHCHECK (over https here, as root: the container's user) run as root, the server as
    # alice, who plants the wrappers. The next start must not run any of them as root.
    environment = {
        "NB_USER": "alice",
        "NB_UID": "1234",
        "NB_GID": "2000",
        "CHOWN_HOME": "yes",
        "CHOWN_EXTRA": "/tmp",
        "NB_UMASK": "002",
        "GEN_CERT": "1",
    }
    container = containers.start(
        ["sh", "-c", f"{PLANT} exec start-notebook.py"], user="root", environment=environment
    )
    assert wait_for_health(container) == "healthy"
    container.restart(timeout=10)
    assert wait_for_health(container) == "healthy"
    assert logs(container, stderr=False).count("planted") == 2
    with pytest.raises(docker.errors.NotFound):
        container.get_archive("/tmp/run-as-root")
