#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine (as root) for this project: the Debian tools every command of
# the README needs (the Docker engine itself comes with `invoke engine`) and a virtual environment
# with the pinned Python tools in .venv. Idempotent. tests/unit/test_setup.py keeps the list
# complete: every tool the code requires is installed here.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v git >/dev/null || need+=(git)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
# Debian's release keys: there already on Debian, needed to bootstrap Debian from Ubuntu (CI).
[[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || need+=(debian-archive-keyring)
# The vulnerability gate checks the security suite's InRelease with them (docs/supply-chain.md).
command -v gpgv >/dev/null || need+=(gpgv)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# A real registry on 127.0.0.1 for the publish tests (they start it with their own config).
command -v docker-registry >/dev/null || need+=(docker-registry)
# A real Rucio deployment for the rucio stack's tests and `invoke rucio-site` (services/rucio):
# PostgreSQL's server, Apache (mod_dav, mod_ssl, mod_lua) and openssl for its certificates.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[[ -x /usr/sbin/apache2 ]] || need+=(apache2)
# Its storages accept the bearer tokens of `invoke idp` (OAuth 2.0 resource server).
[[ -e /usr/lib/apache2/modules/mod_auth_openidc.so ]] || need+=(libapache2-mod-auth-openidc)
command -v openssl >/dev/null || need+=(openssl)
# configurable-http-proxy (npm ci of services/hub) for invoke hub, invoke e2e and the publish tests.
command -v npm >/dev/null || need+=(npm)
# The browser invoke e2e drives (Playwright's own browser download cannot work here). Debian's:
# Ubuntu (GitHub's runners) has only a snap of it, which invoke e2e reports as missing.
if ! command -v chromium >/dev/null && grep -qx 'ID=debian' /etc/os-release 2>/dev/null; then
    need+=(chromium)
fi
if ((${#need[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "setup.sh: missing ${need[*]}; run as root or install them" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    # On a systemd machine these packages start services of their own (a registry on :5000
    # with htpasswd auth, a database cluster on :5432, a web server on :80). The project runs
    # its own instances with its own configs, so the packaged services we installed stay off.
    for service in docker-registry postgresql apache2; do
        if [[ " ${need[*]} " == *" ${service} "* ]] && command -v systemctl >/dev/null \
            && systemctl is-enabled "${service}" >/dev/null 2>&1; then
            systemctl disable --now "${service}" >/dev/null 2>&1 || true
        fi
    done
fi

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
# Installs only when pyproject.toml's pins changed since the last run.
stamp=.venv/.pyproject.sha256
if ! sha256sum --quiet -c "${stamp}" >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
    sha256sum pyproject.toml >"${stamp}"
fi
echo "setup.sh: ready; run tasks with .venv/bin/invoke (or: source .venv/bin/activate)"
