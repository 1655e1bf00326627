#!/bin/bash
# Entrypoint (after tini): adapts the notebook user to the NB_* variables when started as root,
# runs the start-up hooks, then executes the command as that user. Started as any other user it
# does what it can without root, says what it cannot honour, and runs the command.
# Messages go to stderr; JUPYTER_DOCKER_STACKS_QUIET=1 silences the informational ones.

# No `set -e`: a failing hook or optional step must be reported, not abort the start.
set -uo pipefail

info() {
    if [[ "${JUPYTER_DOCKER_STACKS_QUIET:-}" != 1 ]]; then
        printf 'start.sh: INFO: %s\n' "$*" >&2
    fi
}
warn() { printf 'start.sh: WARNING: %s\n' "$*" >&2; }
fail() {
    printf 'start.sh: ERROR: %s\n' "$*" >&2
    exit 1
}
is_true() {
    case "${1,,}" in
        1 | yes | true | y | on) return 0 ;;
        *) return 1 ;;
    esac
}

# Hook folder: *.sh files are sourced (they may change the environment), other executable files
# run; anything else is skipped. A failing hook is reported and the start goes on.
run_hooks() {
    local dir=$1 hook rc
    [[ -d "${dir}" ]] || return 0
    compgen -G "${dir}/*" >/dev/null || return 0
    info "running hooks in ${dir} as uid $(id -u)"
    for hook in "${dir}"/*; do
        [[ -e "${hook}" ]] || continue
        case "${hook}" in
            *.sh)
                info "sourcing ${hook}"
                # shellcheck disable=SC1090 # hooks are supplied at run time
                source "${hook}"
                rc=$?
                ;;
            *)
                if [[ -f "${hook}" && -x "${hook}" ]]; then
                    info "running ${hook}"
                    "${hook}"
                    rc=$?
                else
                    info "ignoring ${hook}: neither *.sh nor executable"
                    continue
                fi
                ;;
        esac
        if ((rc != 0)); then
            warn "hook ${hook} failed with exit code ${rc}; continuing"
        fi
    done
}

# Comma-separated list in $1 -> array named by $2 (empty items dropped).
split_commas() {
    local -n out=$2
    local item items
    out=()
    IFS=',' read -r -a items <<<"$1"
    for item in "${items[@]}"; do
        item="${item#"${item%%[![:space:]]*}"}"
        item="${item%"${item##*[![:space:]]}"}"
        [[ -n "${item}" ]] && out+=("${item}")
    done
}

unset_requested_vars() {
    local names name
    split_commas "${JUPYTER_ENV_VARS_TO_UNSET:-}" names
    for name in "${names[@]}"; do
        info "unsetting ${name} (JUPYTER_ENV_VARS_TO_UNSET)"
        unset "${name}"
    done
    unset JUPYTER_ENV_VARS_TO_UNSET
}

if (($# == 0)); then
    set -- start-notebook.py
fi

NB_USER=${NB_USER:-jovyan}
NB_UID=${NB_UID:-1000}
NB_GID=${NB_GID:-100}
export NB_USER NB_UID NB_GID

run_hooks /usr/local/bin/start-notebook.d

if [[ -n "${NB_UMASK:-}" ]]; then
    umask "${NB_UMASK}" || warn "invalid NB_UMASK=${NB_UMASK}; umask left at $(umask)"
fi

if (($(id -u) == 0)); then
    # --- started as root: shape the user, then drop to it --------------------------------
    image_user=jovyan
    id -u "${image_user}" >/dev/null 2>&1 || image_user=$(id -un 1000 2>/dev/null || echo jovyan)

    if [[ "${NB_USER}" != "${image_user}" ]] && ! id -u "${NB_USER}" >/dev/null 2>&1; then
        info "renaming user ${image_user} to ${NB_USER}"
        usermod --login "${NB_USER}" "${image_user}" || fail "cannot rename ${image_user}"
    fi
    id -u "${NB_USER}" >/dev/null 2>&1 || fail "user ${NB_USER} does not exist"

    new_home="/home/${NB_USER}"
    old_home=$(getent passwd "${NB_USER}" | cut -d: -f6)
    if [[ "${old_home}" != "${new_home}" ]]; then
        if [[ -e "${new_home}" ]]; then
            info "using existing ${new_home} as home of ${NB_USER}"
        elif mv "${old_home}" "${new_home}" 2>/dev/null; then
            info "moved home ${old_home} to ${new_home}"
            # docker exec (and the HEALTHCHECK) start in the image's WORKDIR, the old home.
            ln -s "${new_home}" "${old_home}" || warn "cannot link ${old_home} to ${new_home}"
        else
            # A mounted home cannot be moved: point the new path at it.
            ln -s "${old_home}" "${new_home}" && info "linked ${new_home} to ${old_home}"
        fi
        usermod --home "${new_home}" "${NB_USER}" || warn "cannot set home of ${NB_USER}"
        if [[ "${PWD}/" == "${old_home}/"* ]]; then
            cd "${new_home}${PWD#"${old_home}"}" || cd "${new_home}" || true
        fi
    fi
    export HOME="${new_home}"

    if [[ "${NB_GID}" != "$(id -g "${NB_USER}")" || "${NB_UID}" != "$(id -u "${NB_USER}")" ]]; then
        if ! getent group "${NB_GID}" >/dev/null; then
            info "creating group ${NB_GROUP:-${NB_USER}} with gid ${NB_GID}"
            groupadd --gid "${NB_GID}" "${NB_GROUP:-${NB_USER}}" || fail "cannot create group"
        elif [[ -n "${NB_GROUP:-}" && "$(getent group "${NB_GID}" | cut -d: -f1)" != "${NB_GROUP}" ]]; then
            warn "NB_GROUP=${NB_GROUP} ignored: gid ${NB_GID} exists as group $(getent group "${NB_GID}" | cut -d: -f1)"
        fi
        info "setting ${NB_USER} to uid ${NB_UID}, gid ${NB_GID}"
        # Group users stays a supplementary group: image files are shared through it.
        usermod --non-unique --uid "${NB_UID}" --gid "${NB_GID}" --groups users "${NB_USER}" ||
            fail "cannot change uid/gid of ${NB_USER}"
    elif [[ -n "${NB_GROUP:-}" && "$(id -gn "${NB_USER}")" != "${NB_GROUP}" ]]; then
        warn "NB_GROUP=${NB_GROUP} ignored: gid ${NB_GID} exists as group $(id -gn "${NB_USER}")"
    fi

    if is_true "${CHOWN_HOME:-}"; then
        info "changing ownership of ${HOME} to ${NB_UID}:${NB_GID} (options: ${CHOWN_HOME_OPTS:-none})"
        # shellcheck disable=SC2086 # CHOWN_HOME_OPTS holds several options, e.g. "-R -h"
        chown ${CHOWN_HOME_OPTS:-} "${NB_UID}:${NB_GID}" "${HOME}" || warn "chown of ${HOME} failed"
    fi
    extra_paths=()
    split_commas "${CHOWN_EXTRA:-}" extra_paths
    for path in "${extra_paths[@]}"; do
        info "changing ownership of ${path} to ${NB_UID}:${NB_GID} (options: ${CHOWN_EXTRA_OPTS:-none})"
        # shellcheck disable=SC2086 # CHOWN_EXTRA_OPTS holds several options
        chown ${CHOWN_EXTRA_OPTS:-} "${NB_UID}:${NB_GID}" "${path}" || warn "chown of ${path} failed"
    done

    sudoers=/etc/sudoers.d/start-sh-grant
    if is_true "${GRANT_SUDO:-}"; then
        if command -v sudo >/dev/null 2>&1 && [[ -d /etc/sudoers.d ]]; then
            info "granting ${NB_USER} passwordless sudo"
            printf '%s ALL=(ALL) NOPASSWD:ALL\n' "${NB_USER}" >"${sudoers}" && chmod 0440 "${sudoers}"
        else
            warn "GRANT_SUDO=${GRANT_SUDO} ignored: sudo is not installed"
        fi
    else
        rm -f "${sudoers}"
    fi

    # The hooks and the command see the user's PATH, not a login one; HOME is the user's.
    run_hooks /usr/local/bin/before-notebook.d
    unset_requested_vars
    info "running as ${NB_USER} (uid ${NB_UID}, gid ${NB_GID}): $*"
    exec setpriv --reuid="${NB_UID}" --regid="${NB_GID}" --init-groups -- "$@"
fi

# --- started as a non-root user -----------------------------------------------------------
uid=$(id -u)
gid=$(id -g)
if [[ "${NB_USER}" != jovyan ]]; then
    warn "NB_USER=${NB_USER} ignored: renaming the user needs the container to start as root"
fi
if [[ "${NB_UID}" != "${uid}" ]]; then
    warn "NB_UID=${NB_UID} ignored: running as uid ${uid}; changing it needs root (docker run --user root)"
fi
if [[ "${NB_GID}" != "${gid}" ]]; then
    warn "NB_GID=${NB_GID} ignored: running as gid ${gid}; changing it needs root"
fi
[[ -n "${NB_GROUP:-}" ]] && warn "NB_GROUP=${NB_GROUP} ignored: creating a group needs root"
is_true "${CHOWN_HOME:-}" && warn "CHOWN_HOME=${CHOWN_HOME} ignored: chown needs root"
[[ -n "${CHOWN_EXTRA:-}" ]] && warn "CHOWN_EXTRA=${CHOWN_EXTRA} ignored: chown needs root"
is_true "${GRANT_SUDO:-}" && warn "GRANT_SUDO=${GRANT_SUDO} ignored: granting sudo needs root"


if [[ ! -w "${HOME}" ]]; then
    fallback="/tmp/${NB_USER}-home-${uid}"
    [[ -d "${fallback}" ]] || mkdir -m 0700 "${fallback}"
    [[ -w "${fallback}" ]] || fail "HOME ${HOME} is not writable and ${fallback} cannot be made"
    warn "HOME ${HOME} is not writable by uid ${uid}:${gid}; using ${fallback} (not persistent)"
    if [[ "${PWD}" == "${HOME}" ]]; then
        cd "${fallback}" || true
    fi
    export HOME="${fallback}"
fi

# An arbitrary uid has no passwd entry; tools (bash prompt, getpass, ssh, git) want one.
if ! getent passwd "${uid}" >/dev/null; then
    if [[ -w /etc/passwd ]]; then
        info "adding a passwd entry for uid ${uid}"
        printf '%s:x:%s:%s:%s:%s:/bin/bash\n' "${NB_USER}" "${uid}" "${gid}" "${NB_USER}" \
            "${HOME}" >>/etc/passwd
    else
        warn "uid ${uid} has no passwd entry (start with gid 0 to let start.sh add one)"
    fi
fi

run_hooks /usr/local/bin/before-notebook.d
unset_requested_vars
info "running as uid ${uid}, gid ${gid}: $*"
exec "$@"
