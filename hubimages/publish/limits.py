"""What the spawner profiles say about a user server's resources and privileges: each image's
`resources:` (build-matrix.yaml) and, for every session, no Linux capabilities and no new
privileges (sudo and set-uid programs gain nothing: hubs never set GRANT_SUDO).

KubeSpawner gets requests and limits in each profile's override (cpu/memory guarantee: what the
scheduler reserves; limit: the CFS quota and the OOM line) and a security context; a pod's
process count is the kubelet's podPidsLimit, not a profile's. DockerSpawner gets a host config
per pinned image: mem_limit (hard), mem_reservation (soft: kept under memory pressure),
cpu_quota per cpu_period (a hard CPU quota), cpu_shares (a relative weight: Docker has no CPU
guarantee), pids_limit, cap_drop and no-new-privileges.
"""

from __future__ import annotations

import json

from hubimages.model.resources import Resources, memory_text
from hubimages.model.spec import Matrix
from hubimages.publish.records import PublishedImage

SECURITY_CONTEXT = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
DOCKER_SECURITY = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}
CPU_PERIOD = 100_000  # microseconds: Docker's default CFS period


def kubespawner_limits(resources: Resources | None) -> dict[str, object]:
    """Keys of a profile's kubespawner_override."""
    found: dict[str, object] = {
        "allow_privilege_escalation": False,
        "container_security_context": SECURITY_CONTEXT,
    }
    if resources is not None:
        found.update(
            cpu_guarantee=resources.cpu_guarantee,
            cpu_limit=resources.cpu_limit,
            mem_guarantee=memory_text(resources.mem_guarantee),
            mem_limit=memory_text(resources.mem_limit),
        )
    return found


def docker_host_config(resources: Resources | None) -> dict[str, object]:
    found: dict[str, object] = dict(DOCKER_SECURITY)
    if resources is not None:
        found.update(
            mem_limit=resources.mem_limit,
            mem_reservation=resources.mem_guarantee,
            # As DockerSpawner's own cpu_limit does (the engine refuses nano_cpus with a
            # period, which docker-py's host config always sends).
            cpu_period=CPU_PERIOD,
            cpu_quota=int(resources.cpu_limit * CPU_PERIOD),
            cpu_shares=max(2, int(resources.cpu_guarantee * 1024)),
            pids_limit=resources.pids_limit,
        )
    return found


def dockerspawner_limits(matrix: Matrix, images: list[PublishedImage]) -> str:
    """Config lines: each pinned image's host config, applied when its server is created."""
    configs = {i.pinned: docker_host_config(matrix.images[i.name].resources) for i in images}
    return (
        "\n# Each image's guarantees and limits (build-matrix.yaml resources) and every\n"
        "# session's privileges: no capabilities, no new privileges.\n"
        f"SESSION_HOST_CONFIG = {json.dumps(configs, indent=4)}\n"
        f"SESSION_SECURITY = {json.dumps(DOCKER_SECURITY)}\n\n\n"
        "def session_host_config(spawner):\n"
        '    """The chosen image\'s host config (DockerSpawner resolves the image first)."""\n'
        "    return SESSION_HOST_CONFIG.get(spawner.image, SESSION_SECURITY)\n\n\n"
        "c.DockerSpawner.extra_host_config = session_host_config\n"
    )
