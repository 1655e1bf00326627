"""Host firewall rules (iptables) around the local services' docker networks.

A container reaches the host on every address the host has, so any host listener on 0.0.0.0
(and any service on another network's gateway) answers it, internal network or not. Two rules
close that:

- a network's guard: what arrives from its bridge is accepted only for the host ports opened on
  it (the hub's API, Rucio's server and storages, a package index) and replies; the rest is
  refused (REJECT: a connection fails at once, it does not hang);
- a service's guard: its ports on a gateway answer only the host itself (lo) and the bridges
  that need them.

Each guard is a chain of its own named after what it guards, inserted at the top of INPUT and
removed (with its jump) when the service stops; a start first removes what a crash left. Not
root, or no iptables: nothing is done (a warning), as nothing else could be.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

import docker

log = logging.getLogger(__name__)
IPTABLES = "iptables"


def available() -> bool:
    return os.geteuid() == 0 and shutil.which(IPTABLES) is not None


def _iptables(*args: str) -> bool:
    done = subprocess.run(
        [IPTABLES, "-w", "10", *args], capture_output=True, text=True, check=False, timeout=30
    )
    return done.returncode == 0


def chain_name(kind: str, name: str) -> str:
    """iptables chain names have at most 28 characters."""
    return f"HI{kind}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def bridge_of(client: docker.DockerClient, network: str) -> str:
    """The host interface of a docker bridge network."""
    found = client.networks.get(network)
    options = found.attrs.get("Options") or {}
    return str(options.get("com.docker.network.bridge.name") or f"br-{str(found.id)[:12]}")


@dataclass(frozen=True)
class Guard:
    chain: str
    jump: tuple[str, ...]  # the INPUT rule that sends traffic into the chain
    rules: tuple[tuple[str, ...], ...]  # the chain, in order

    def apply(self) -> None:
        if not available():
            log.warning("no iptables (or not root): %s not applied", self.chain)
            return
        self.remove()
        _iptables("-N", self.chain)
        for rule in self.rules:
            _iptables("-A", self.chain, *rule)
        if not _iptables("-I", "INPUT", "1", *self.jump, "-j", self.chain):
            self.remove()
            log.warning("iptables refused %s: not applied", self.chain)

    def remove(self) -> None:
        remove_chain(self.chain)


def remove_chain(chain: str) -> None:
    """The chain and every INPUT rule that jumps to it (what a crashed run left, too)."""
    if not available():
        return
    listed = subprocess.run(
        [IPTABLES, "-w", "10", "-S", "INPUT"], capture_output=True, text=True, check=False
    )
    for line in listed.stdout.splitlines():
        words = line.split()
        if words[:2] == ["-A", "INPUT"] and words[-2:] == ["-j", chain]:
            _iptables("-D", "INPUT", *words[2:])
    _iptables("-F", chain)
    _iptables("-X", chain)


REFUSE = ("-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset")


def network_guard(owner: str, bridge: str, gateway: str, ports: list[int]) -> Guard:
    """Containers on `bridge` reach the host only at gateway:ports (and get replies); the
    chain is named after its owner (e.g. a hub), whichever network it guards."""
    opened = tuple(("-p", "tcp", "-d", gateway, "--dport", str(p), "-j", "RETURN") for p in ports)
    return Guard(
        chain_name("N", owner),
        ("-i", bridge),
        (
            ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"),
            *opened,
            ("-p", "udp", "-j", "REJECT"),
            REFUSE,
        ),
    )


def service_guard(service: str, gateway: str, ports: list[int], bridges: list[str]) -> Guard:
    """gateway:ports answer only the host (lo) and containers on `bridges`."""
    return Guard(
        chain_name("S", service),
        ("-p", "tcp", "-d", gateway, "-m", "multiport", "--dports", ",".join(map(str, ports))),
        (
            ("-i", "lo", "-j", "RETURN"),
            *(("-i", bridge, "-j", "RETURN") for bridge in bridges),
            REFUSE,
        ),
    )
