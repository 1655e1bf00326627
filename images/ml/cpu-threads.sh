# shellcheck shell=bash
# Sourced by start.sh (before-notebook.d): size the thread pools of OpenMP, the BLAS libraries,
# numexpr and JAX/XLA to the container's CPU limit, so that a 2-CPU container on a 64-core host
# does not start 64 threads per pool. Without a limit nothing is set; a variable the user set is
# never changed.

# Prints the CPU limit of this container (ceil of the CFS quota, and the cpuset), or nothing
# when the container may use every online CPU.
cpu_threads_limit() {
    local quota=max period=100000 cgroup_path allowed online limit
    cgroup_path=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null)
    if [[ -r "/sys/fs/cgroup${cgroup_path}/cpu.max" ]]; then # cgroup v2
        read -r quota period <"/sys/fs/cgroup${cgroup_path}/cpu.max"
    elif [[ -r /sys/fs/cgroup/cpu.max ]]; then
        read -r quota period </sys/fs/cgroup/cpu.max
    else # cgroup v1: -1 means no quota
        local dir
        for dir in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
            if [[ -r "${dir}/cpu.cfs_quota_us" ]]; then
                read -r quota <"${dir}/cpu.cfs_quota_us"
                read -r period <"${dir}/cpu.cfs_period_us"
                break
            fi
        done
    fi
    # CPUs this process may run on (the cpuset); nproc itself would honour OMP_NUM_THREADS.
    allowed=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    online=$(getconf _NPROCESSORS_ONLN)
    limit=${allowed}
    if [[ "${quota}" =~ ^[0-9]+$ && "${period}" =~ ^[1-9][0-9]*$ ]]; then
        local quota_cpus=$(((quota + period - 1) / period))
        ((quota_cpus < 1)) && quota_cpus=1
        ((quota_cpus < limit)) && limit=${quota_cpus}
    elif ((allowed >= online)); then
        return 0 # no quota, no cpuset: leave the libraries' defaults alone
    fi
    echo "${limit}"
}

cpu_threads_apply() {
    local limit var set=()
    limit=$(cpu_threads_limit)
    [[ -n "${limit}" ]] || return 0
    for var in OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS BLIS_NUM_THREADS \
        NUMEXPR_NUM_THREADS NUMEXPR_MAX_THREADS PJRT_NPROC; do
        if [[ -z "${!var:-}" ]]; then
            export "${var}=${limit}"
            set+=("${var}")
        fi
    done
    # XLA's CPU client sizes its pools from PJRT_NPROC; with one CPU, Eigen needs no threads.
    if ((limit == 1)) && [[ -z "${XLA_FLAGS:-}" ]]; then
        export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false"
        set+=(XLA_FLAGS)
    fi
    # start.sh's log (format, JUPYTER_DOCKER_STACKS_QUIET), also when sourced on its own.
    # shellcheck source=images/base/_docker_stacks_log.sh
    declare -F _log_info >/dev/null || source /usr/local/bin/_docker_stacks_log.sh
    _log_info "cpu-threads: CPU limit ${limit}: set ${set[*]:-nothing (all set by user)}"
}

cpu_threads_apply
unset -f cpu_threads_limit cpu_threads_apply
