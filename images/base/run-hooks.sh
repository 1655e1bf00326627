# shellcheck shell=bash
# Sourced with one hook folder: `source /usr/local/bin/run-hooks.sh DIR` (docker-stacks' contract).
# Each entry of DIR, in name order: `*.sh` files are sourced (what they export reaches later
# hooks and the caller), other executable files are run, anything else is skipped. A failing
# hook is logged as an error and the next one runs. errexit and nounset are off while the hooks
# run (hooks written for docker-stacks expect neither) and are restored afterwards; a hook that
# turns on `set -e` itself and then fails ends the sourcing shell, as its author asked.
# Returns 1, running nothing, unless given exactly one existing folder.

if ! declare -F _log >/dev/null; then
    # shellcheck source=images/base/_docker_stacks_log.sh
    source /usr/local/bin/_docker_stacks_log.sh
fi

if (($# != 1)); then
    _log_error "Should pass exactly one directory"
    return 1
fi
if [[ ! -d "$1" ]]; then
    _log_error "Directory $1 doesn't exist or is not a directory"
    return 1
fi

# Names are prefixed: this file runs in the caller's shell and must not clobber its variables.
_run_hooks_flags=$-
set +eu
# The ids without forking `id` twice per folder: the real uid, the real gid from /proc.
while read -r _run_hooks_key _run_hooks_gid _; do
    [[ "${_run_hooks_key}" == Gid: ]] && break
done </proc/self/status
_log_info "Running hooks in: $1 as uid: ${UID} gid: ${_run_hooks_gid}"
for _run_hooks_file in "$1/"*; do
    [[ -e "${_run_hooks_file}" ]] || continue # an empty folder leaves the pattern as is
    if [[ "${_run_hooks_file}" == *.sh ]]; then
        _log_info "Sourcing shell script: ${_run_hooks_file}"
        # shellcheck disable=SC1090 # hooks are supplied by images and admins at run time
        source "${_run_hooks_file}"
        _run_hooks_rc=$?
        set +eu # a sourced hook may have turned these on and succeeded
    elif [[ -f "${_run_hooks_file}" && -x "${_run_hooks_file}" ]]; then
        _log_info "Running executable: ${_run_hooks_file}"
        "${_run_hooks_file}"
        _run_hooks_rc=$?
    else
        _log_info "Ignoring non-executable: ${_run_hooks_file}"
        continue
    fi
    if ((_run_hooks_rc != 0)); then
        _log_error "${_run_hooks_file} has failed, continuing execution"
    fi
done
_log_info "Done running hooks in: $1"
[[ "${_run_hooks_flags}" == *e* ]] && set -e
[[ "${_run_hooks_flags}" == *u* ]] && set -u
unset _run_hooks_flags _run_hooks_file _run_hooks_rc _run_hooks_key _run_hooks_gid
