# shellcheck shell=bash
# Logging of start.sh, run-hooks.sh and hooks, as docker-stacks defines it (sourced, never run):
#
#   _log [LEVEL] MESSAGE...   LEVEL: INFO (default), WARNING, ERROR, FATAL, DEBUG; a first word
#                             that is no level is part of the message, logged as INFO
#   _log_info, _log_warn, _log_error MESSAGE...; _log_fatal MESSAGE... logs, then exits 1
#
# Each message is one stderr line `LEVEL[YYYY-MM-DD HH:MM:SS] message`. A non-empty
# JUPYTER_DOCKER_STACKS_QUIET hides INFO and DEBUG; warnings, errors and fatals always show.
# Colours (FATAL bold red, ERROR red, WARNING yellow, DEBUG cyan) only when stderr is a
# terminal and NO_COLOR is empty.

_log() {
    local level=INFO colour='' line
    case "${1:-}" in
        INFO | WARNING | ERROR | FATAL | DEBUG)
            level=$1
            shift
            ;;
    esac
    case "${level}" in
        INFO | DEBUG) [[ -z "${JUPYTER_DOCKER_STACKS_QUIET:-}" ]] || return 0 ;;
    esac
    # printf's %(...)T is a bash builtin: no `date` process per line.
    printf -v line '%s[%(%Y-%m-%d %H:%M:%S)T] %s' "${level}" -1 "$*"
    if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then
        case "${level}" in
            FATAL) colour='1;31' ;;
            ERROR) colour='31' ;;
            WARNING) colour='33' ;;
            DEBUG) colour='36' ;;
        esac
    fi
    if [[ -n "${colour}" ]]; then
        printf '\033[0;%sm%s\033[0m\n' "${colour}" "${line}" >&2
    else
        printf '%s\n' "${line}" >&2
    fi
}

_log_info() { _log INFO "$@"; }
_log_warn() { _log WARNING "$@"; }
_log_error() { _log ERROR "$@"; }
_log_fatal() {
    _log FATAL "$@"
    exit 1
}
