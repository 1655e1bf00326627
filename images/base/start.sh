#!/bin/bash
# Entrypoint (after tini): the docker-stacks start script contract, written for this image.
#
# Started as root it shapes the notebook user from NB_USER, NB_UID, NB_GID, NB_GROUP,
# CHOWN_HOME(_OPTS), CHOWN_EXTRA(_OPTS) and GRANT_SUDO, runs the hooks, then runs the command as
# that user. Started as any other user it does what it can without root and warns about what it
# cannot honour. Both: hooks in start-notebook.d (first) and before-notebook.d (last),
# JUPYTER_ENV_VARS_TO_UNSET, NB_UMASK. Messages: _docker_stacks_log.sh (stderr).
#
# Never moved or deleted: /home/jovyan (a renamed user gets a copy, or a link when it is a
# mount). While root, nothing runs from a user-writable folder: the venv is writable by group
# users, so PATH is narrowed to root-owned folders until the command is started.

# No `set -e`: a failing hook or optional step is reported, it does not abort the start.
set -uo pipefail

# shellcheck source=images/base/_docker_stacks_log.sh
source /usr/local/bin/_docker_stacks_log.sh
_log_info "Entered start.sh with args:" "$@"

if (($# == 0)); then
    set -- bash
fi
# start.sh is the ENTRYPOINT: one given again in the command runs that command, nothing else.
if [[ "${_START_SH_EXECUTED:-}" == 1 ]]; then
    _log_warn "start.sh is the default ENTRYPOINT, do not include it in CMD"
    _log_info "Executing the command:" "$@"
    exec "$@"
fi
export _START_SH_EXECUTED=1

NB_USER=${NB_USER:-jovyan}
NB_UID=${NB_UID:-1000}
NB_GID=${NB_GID:-100}
export NB_USER NB_UID NB_GID
IMAGE_HOME=/home/jovyan
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER_PATH=${PATH}
HOOKS=/usr/local/bin

is_true() {
    case "${1,,}" in
        1 | yes | true | y | on) return 0 ;;
        *) return 1 ;;
    esac
}

# Comma-separated list in $1 -> array named by $2 (blanks trimmed, empty items dropped).
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

# The last steps of both kinds of start: variables to drop, then the umask.
finish_environment() {
    local names name
    split_commas "${JUPYTER_ENV_VARS_TO_UNSET:-}" names
    for name in "${names[@]}"; do
        _log_info "Unset ${name} due to JUPYTER_ENV_VARS_TO_UNSET"
        unset "${name}"
    done
    unset JUPYTER_ENV_VARS_TO_UNSET
    if [[ -n "${NB_UMASK:-}" ]]; then
        umask "${NB_UMASK}" 2>/dev/null || _log_warn "NB_UMASK=${NB_UMASK} is no umask; kept $(umask)"
    fi
}

# /home/jovyan's content at $1 for a renamed user, /home/jovyan left as it is. A mounted home
# is linked (the data stays on the volume); otherwise it is copied without crossing into
# mounts below it, which are linked at the same place. $2: cp options (root keeps no owners).
make_home() {
    local home=$1 cp_options=$2 staging mount link
    if mountpoint -q "${IMAGE_HOME}"; then
        ln -s "${IMAGE_HOME}" "${home}" && _log_info "Linked ${home} to the mounted ${IMAGE_HOME}"
        return
    fi
    staging=$(mktemp -d "${home}.XXXXXX") || _log_fatal "cannot create a home next to ${home}"
    # shellcheck disable=SC2086 # cp_options holds several options
    if cp ${cp_options} --one-file-system "${IMAGE_HOME}/." "${staging}/"; then
        # Parents come before the mounts inside them; one reached through a link is skipped.
        while IFS= read -r mount; do
            printf -v mount '%b' "${mount}" # findmnt --raw writes a space as \x20
            [[ "${mount}" == "${IMAGE_HOME}/"* ]] || continue
            link=${staging}${mount#"${IMAGE_HOME}"}
            [[ "$(readlink -f "${link%/*}")/" == "${staging}/"* ]] || continue
            rmdir "${link}" 2>/dev/null
            ln -s "${mount}" "${link}"
        done < <(findmnt --raw --noheadings --output TARGET)
        chmod --reference="${IMAGE_HOME}" "${staging}"
        mv -T "${staging}" "${home}" && _log_info "Copied ${IMAGE_HOME} to ${home}" && return
    fi
    # The partial copy holds only links to mounts, never a mount: removing it loses nothing.
    rm -rf "${staging}"
    _log_info "Could not copy ${IMAGE_HOME} to ${home}; linking it instead"
    ln -s "${IMAGE_HOME}" "${home}" || _log_fatal "cannot copy nor link ${IMAGE_HOME} to ${home}"
}

# NB_USER, NB_UID, NB_GID and NB_GROUP applied to the image's user (root only).
shape_user() {
    if [[ "${NB_USER}" != jovyan ]] && ! id -u "${NB_USER}" >/dev/null 2>&1; then
        usermod --login "${NB_USER}" --home "/home/${NB_USER}" jovyan ||
            _log_fatal "cannot rename the jovyan user to ${NB_USER}"
        _log_info "Updated the jovyan user:"
        _log_info "- username: jovyan       -> ${NB_USER}"
        _log_info "- home dir: ${IMAGE_HOME} -> /home/${NB_USER}"
    fi
    id -u "${NB_USER}" >/dev/null 2>&1 || _log_fatal "user ${NB_USER} does not exist"
    if [[ "${NB_UID}" == "$(id -u "${NB_USER}")" && "${NB_GID}" == "$(id -g "${NB_USER}")" ]]; then
        if [[ -n "${NB_GROUP:-}" && "$(id -gn "${NB_USER}")" != "${NB_GROUP}" ]]; then
            _log_warn "NB_GROUP=${NB_GROUP} ignored: gid ${NB_GID} is group $(id -gn "${NB_USER}")"
        fi
        return
    fi
    _log_info "Update ${NB_USER}'s UID:GID to ${NB_UID}:${NB_GID}"
    local group
    group=$(getent group "${NB_GID}" | cut -d: -f1)
    if [[ -z "${group}" ]]; then
        groupadd --gid "${NB_GID}" "${NB_GROUP:-${NB_USER}}" || _log_fatal "cannot create group"
    elif [[ -n "${NB_GROUP:-}" && "${group}" != "${NB_GROUP}" ]]; then
        _log_warn "NB_GROUP=${NB_GROUP} ignored: gid ${NB_GID} exists as group ${group}"
    fi
    # Recreated rather than usermod'ed: usermod --uid would chown the whole home, which is
    # CHOWN_HOME's job. Group users (100) stays: the venv and the image's files are shared
    # through it.
    if ! userdel "${NB_USER}" ||
        ! useradd --no-log-init --non-unique --home-dir "/home/${NB_USER}" --shell /bin/bash \
            --uid "${NB_UID}" --gid "${NB_GID}" --groups 100 "${NB_USER}"; then
        _log_fatal "cannot give ${NB_USER} uid ${NB_UID} and gid ${NB_GID}"
    fi
}

# The root triplet (NB_USER=root, NB_UID=0, NB_GID=0) works as root, with /home/root as home.
root_home() {
    if [[ "${NB_UID}" != 0 || "${NB_GID}" != 0 ]]; then
        _log_fatal "NB_USER=root needs NB_UID=0 and NB_GID=0 (got ${NB_UID}:${NB_GID})"
    fi
    # usermod refuses to change a user PID 1 runs as: the passwd field is edited.
    sed -i -E 's#^(root:[^:]*:0:0:[^:]*:)[^:]*:#\1/home/root:#' /etc/passwd
}

chown_requested() {
    local path paths
    if is_true "${CHOWN_HOME:-}"; then
        _log_info "Ensuring ${HOME} is owned by ${NB_UID}:${NB_GID}${CHOWN_HOME_OPTS:+" (chown options: ${CHOWN_HOME_OPTS})"}"
        # shellcheck disable=SC2086 # CHOWN_HOME_OPTS holds several options, e.g. "-R -h"
        chown ${CHOWN_HOME_OPTS:-} "${NB_UID}:${NB_GID}" "${HOME}" ||
            _log_warn "chown of ${HOME} failed"
    fi
    split_commas "${CHOWN_EXTRA:-}" paths
    for path in "${paths[@]}"; do
        _log_info "Ensuring ${path} is owned by ${NB_UID}:${NB_GID}${CHOWN_EXTRA_OPTS:+" (chown options: ${CHOWN_EXTRA_OPTS})"}"
        # shellcheck disable=SC2086 # CHOWN_EXTRA_OPTS holds several options
        chown ${CHOWN_EXTRA_OPTS:-} "${NB_UID}:${NB_GID}" "${path}" ||
            _log_warn "chown of ${path} failed"
    done
}

grant_sudo() {
    local grant=/etc/sudoers.d/start-sh-grant
    if is_true "${GRANT_SUDO:-}"; then
        _log_info "Granting ${NB_USER} passwordless sudo rights!"
        printf '%s ALL=(ALL) NOPASSWD:ALL\n' "${NB_USER}" >"${grant}" && chmod 0440 "${grant}"
    else
        rm -f "${grant}" # a restarted container keeps its files
    fi
}

start_as_root() {
    local home cp_options=-a
    if [[ "${NB_USER}" == root ]]; then
        root_home
        home=/home/root
        cp_options="-a --no-preserve=ownership"
    else
        shape_user
        home=/home/${NB_USER}
    fi
    if [[ "${home}" != "${IMAGE_HOME}" ]]; then
        [[ -e "${home}" ]] || make_home "${home}" "${cp_options}"
        if [[ "${PWD}/" == "${IMAGE_HOME}/"* ]]; then
            _log_info "Changing working directory to ${home}${PWD#"${IMAGE_HOME}"}"
            cd "${home}${PWD#"${IMAGE_HOME}"}" || cd "${home}" || true
        fi
    fi
    export HOME=${home}
    chown_requested
    grant_sudo
    # shellcheck source=images/base/run-hooks.sh
    source "${HOOKS}/run-hooks.sh" "${HOOKS}/before-notebook.d"
    finish_environment
    # The user's PATH back, with what hooks added to the narrowed one.
    PATH=${PATH/"${ROOT_PATH}"/"${USER_PATH}"}
    _log_info "Running as ${NB_USER}:" "$@"
    if [[ "${NB_USER}" == root ]]; then
        exec "$@"
    fi
    # setpriv by its path (PATH is the user's again); it looks the command up as the user.
    exec /usr/bin/setpriv --reuid="${NB_UID}" --regid="${NB_GID}" --init-groups -- "$@"
}

# An arbitrary uid run with gid 0 (OpenShift style) gets a passwd entry without /etc/passwd
# being writable (that would let it make root's password empty): nss_wrapper serves a private
# copy to this process tree; set-uid programs (sudo) ignore it and see the real one.
add_passwd_entry() {
    local uid=$1 gid=$2 folder wrappers=(/usr/lib/*/libnss_wrapper.so)
    if [[ ! -f "${wrappers[0]}" ]] || ! folder=$(mktemp -d "/tmp/passwd-${uid}.XXXXXX"); then
        _log_warn "cannot add a passwd entry for uid ${uid}"
        return
    fi
    _log_info "There is no entry in /etc/passwd for uid ${uid}: adding ${NB_USER} (home ${HOME})"
    # jovyan's own line is renamed, so that the name jovyan means this uid.
    sed 's/^jovyan:/nayvoj:/' /etc/passwd >"${folder}/passwd"
    printf '%s:x:%s:%s:%s:%s:/bin/bash\n' "${NB_USER}" "${uid}" "${gid}" "${NB_USER}" "${HOME}" \
        >>"${folder}/passwd"
    export LD_PRELOAD="${wrappers[0]}${LD_PRELOAD:+ ${LD_PRELOAD}}" \
        NSS_WRAPPER_PASSWD="${folder}/passwd" NSS_WRAPPER_GROUP=/etc/group
    if [[ "${NB_USER}" != jovyan ]]; then
        _log_warn "user is ${NB_USER} but home is /home/jovyan. You must run as root to rename the home directory!"
    fi
}

start_unprivileged() {
    local uid=${UID} gid key fallback
    while read -r key gid _; do
        [[ "${key}" == Gid: ]] && break
    done </proc/self/status
    is_true "${GRANT_SUDO:-}" && _log_warn "GRANT_SUDO=${GRANT_SUDO} ignored: granting sudo needs root"
    [[ -n "${CHOWN_EXTRA:-}" ]] && _log_warn "CHOWN_EXTRA=${CHOWN_EXTRA} ignored: chown needs root"
    is_true "${CHOWN_HOME:-}" && _log_warn "CHOWN_HOME=${CHOWN_HOME} ignored: chown needs root"
    if [[ ! -w "${HOME}" ]]; then
        _log_warn "no write access to ${HOME}. Try starting the container with group 'users' (100), e.g. using \"--group-add=users\"."
        fallback="/tmp/${NB_USER}-home-${uid}"
        if { [[ -d "${fallback}" ]] || mkdir -m 0700 "${fallback}" 2>/dev/null; } &&
            [[ -O "${fallback}" && -w "${fallback}" ]]; then
            _log_info "Using ${fallback} as HOME (not persistent)"
            if [[ "${PWD}" == "${HOME}" ]]; then
                cd "${fallback}" || true
            fi
            export HOME=${fallback}
        fi
    fi
    if ! getent passwd "${uid}" >/dev/null; then
        if ((gid == 0)); then
            add_passwd_entry "${uid}" "${gid}"
        else
            _log_warn "uid ${uid} has no passwd entry and start.sh adds one only for gid 0. Try setting gid=0 with \"--user=${uid}:0\"."
        fi
    fi
    if [[ "${NB_USER}" != jovyan && "${NB_USER}" != "$(id -un 2>/dev/null)" ]]; then
        _log_warn "NB_USER=${NB_USER} ignored: renaming the user needs root (docker run --user root)"
    fi
    if [[ "${NB_UID}" != 1000 && "${NB_UID}" != "${uid}" ]]; then
        _log_warn "NB_UID=${NB_UID} ignored: running as uid ${uid}; changing it needs root"
    fi
    if [[ "${NB_GID}" != 100 && "${NB_GID}" != "${gid}" ]]; then
        _log_warn "NB_GID=${NB_GID} ignored: running as gid ${gid}; changing it needs root"
    fi
    if [[ -n "${NB_GROUP:-}" && "${NB_GROUP}" != "$(id -gn 2>/dev/null)" ]]; then
        _log_warn "NB_GROUP=${NB_GROUP} ignored: naming a group needs root"
    fi
    # shellcheck source=images/base/run-hooks.sh
    source "${HOOKS}/run-hooks.sh" "${HOOKS}/before-notebook.d"
    finish_environment
    _log_info "Executing the command:" "$@"
    exec "$@"
}

if ((EUID == 0)); then
    PATH=${ROOT_PATH}
fi
# shellcheck source=images/base/run-hooks.sh
source "${HOOKS}/run-hooks.sh" "${HOOKS}/start-notebook.d"
if ((EUID == 0)); then
    start_as_root "$@"
fi
start_unprivileged "$@"
