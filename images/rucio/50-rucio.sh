# shellcheck shell=bash
# Sourced by start.sh (before-notebook.d): generate the Rucio client config and the Rucio
# JupyterLab extension's config from the RUCIO_* variables (see /usr/local/bin/rucio-configure)
# and export where they are. The files are written as the notebook user, never as root: the
# home may be a persistent volume the user controls.
rucio_configure_hook() {
    local cmd=(/usr/local/bin/rucio-configure) out line
    if (($(id -u) == 0)); then
        cmd=(setpriv --reuid="${NB_UID}" --regid="${NB_GID}" --init-groups -- "${cmd[@]}")
    fi
    out=$("${cmd[@]}") || return
    while IFS= read -r line; do
        case "${line}" in
            RUCIO_CONFIG=*) export RUCIO_CONFIG="${line#*=}" ;;
            X509_USER_PROXY=*) export X509_USER_PROXY="${line#*=}" ;;
            JUPYTER_CONFIG_PATH+=*)
                export JUPYTER_CONFIG_PATH="${line#*=}${JUPYTER_CONFIG_PATH:+:${JUPYTER_CONFIG_PATH}}"
                ;;
        esac
    done <<<"${out}"
}

rucio_configure_hook
unset -f rucio_configure_hook
