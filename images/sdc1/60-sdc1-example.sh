# shellcheck shell=bash
# Sourced by start.sh (before-notebook.d): put the SDC1 example notebook in the user's home the
# first time, where JupyterLab's file browser shows it. Never overwrites: a persistent home keeps
# the user's edits, and a stamp stops a deleted copy from coming back.
sdc1_example_hook() {
    local home=${HOME:-/home/${NB_USER:-jovyan}}
    local stamp="${home}/.sdc1-example-copied" target="${home}/sdc1-example.ipynb"
    [[ -e "${stamp}" || -e "${target}" ]] && return 0
    local copy=(cp /opt/sdc1/notebooks/sdc1-example.ipynb "${target}")
    local mark=(touch "${stamp}")
    if (($(id -u) == 0)); then
        # As root, write as the notebook user: the home may be a volume the user owns.
        copy=(setpriv --reuid="${NB_UID}" --regid="${NB_GID}" --init-groups -- "${copy[@]}")
        mark=(setpriv --reuid="${NB_UID}" --regid="${NB_GID}" --init-groups -- "${mark[@]}")
    fi
    if ! "${copy[@]}" 2>/dev/null || ! "${mark[@]}" 2>/dev/null; then
        # shellcheck source=images/base/_docker_stacks_log.sh
        declare -F _log_warn >/dev/null || source /usr/local/bin/_docker_stacks_log.sh
        _log_warn "sdc1: could not copy the example notebook to ${target}"
    fi
}

sdc1_example_hook
unset -f sdc1_example_hook
