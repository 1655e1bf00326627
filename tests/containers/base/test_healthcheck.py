"""The image's HEALTHCHECK, through Docker's own health status."""

from tests.containers.helpers import wait_for_health


def test_becomes_healthy(containers):
    assert wait_for_health(containers.start()) == "healthy"


def test_healthy_with_custom_port_base_url_and_proxy(containers):
    proxy = "http://proxy.invalid:3128"
    container = containers.start(
        environment={
            "JUPYTER_PORT": "9000",
            "NOTEBOOK_ARGS": "--ServerApp.base_url=/user/someone/",
            "http_proxy": proxy,
            "https_proxy": proxy,
            "HTTP_PROXY": proxy,
            "HTTPS_PROXY": proxy,
            "all_proxy": proxy,
        }
    )
    assert wait_for_health(container) == "healthy"


def test_healthy_when_root_renamed_the_user(containers):
    container = containers.start(user="root", environment={"NB_USER": "alice"})
    assert wait_for_health(container) == "healthy"
