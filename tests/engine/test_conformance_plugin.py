"""The pytest plugin `invoke conformance` loads into docker-stacks' suite, against the real
engine: test_ips' dual-stack network is created (on Docker 20.10 too) and labelled."""

from __future__ import annotations

import secrets

import docker
import pytest
from docker.types import IPAMPool

from hubimages.verify import conformance_plugin
from hubimages.verify.conformance_plugin import LABEL


@pytest.fixture
def plugged() -> object:
    conformance_plugin.pytest_configure(None)  # type: ignore[arg-type]
    yield
    conformance_plugin.pytest_unconfigure(None)  # type: ignore[arg-type]


def test_the_ipv6_network_of_test_ips_is_created_and_labelled(plugged: object) -> None:
    client = docker.from_env()
    # As test_ips makes it: a random unique-local /64, internal, IPv6 on.
    subnet = "fc00:" + ":".join(secrets.token_hex(2) for _ in range(3))
    network = client.networks.create(
        subnet.replace(":", "-"),
        # docker-stacks' test_ips passes a pool where the SDK types a config (the plugin's job)
        ipam=IPAMPool(subnet=f"{subnet}::/64", gateway=f"{subnet}::1"),  # type: ignore[arg-type]
        enable_ipv6=True,
        internal=True,
    )
    try:
        network.reload()
        assert network.attrs["Labels"] == {LABEL: "1"}
        assert network.attrs["EnableIPv6"] is True
        # Dual-stack: the engine adds an IPv4 subnet of its own to ours.
        assert f"{subnet}::/64" in [c["Subnet"] for c in network.attrs["IPAM"]["Config"]]
    finally:
        network.remove()
