"""Pieces of publishing that need no registry: targets, tags, retries, history, diffs."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker.models.images import Image

from hubimages.cli.report import format_diff
from hubimages.errors import HubImagesError
from hubimages.publish.diff import diff_inventories
from hubimages.publish.gate import TestedImage, release_choice
from hubimages.publish.inventory import Inventory
from hubimages.publish.records import PublishedImage, Release, current_images
from hubimages.publish.registry import RegistryClient
from hubimages.publish.retry import RegistryError, RetryableError, RetryPolicy, with_retries
from hubimages.publish.store import ReleaseStore
from hubimages.publish.target import RegistryTarget

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("value", "host", "namespace"),
    [
        ("127.0.0.1:5000/ska", "127.0.0.1:5000", "ska"),
        ("127.0.0.1:5000", "127.0.0.1:5000", "skahub"),
        ("registry.example.org/org/team", "registry.example.org", "org/team"),
        ("https://ghcr.io/ska-telescope/", "ghcr.io", "ska-telescope"),
        ("localhost:5000/a", "localhost:5000", "a"),
    ],
)
def test_registry_target_parse(value: str, host: str, namespace: str) -> None:
    target = RegistryTarget.parse(value, "skahub")
    assert (target.host, target.namespace) == (host, namespace)
    assert target.repository("sdc1") == f"{host}/{namespace}/sdc1"


@pytest.mark.parametrize("value", ["not a host", "ska/images", "127.0.0.1:5000/UPPER", ""])
def test_registry_target_rejects(value: str) -> None:
    with pytest.raises(HubImagesError, match="--registry"):
        RegistryTarget.parse(value, "skahub")


def test_loopback_registries_use_plain_http_like_the_engine() -> None:
    assert RegistryTarget.parse("127.0.0.1:5000/a", "x").base_url == "http://127.0.0.1:5000"
    assert RegistryTarget.parse("localhost:5000/a", "x").base_url == "http://localhost:5000"
    assert RegistryTarget.parse("docker.io/ska", "x").base_url == "https://registry-1.docker.io"
    assert RegistryTarget.parse("r.example.org/a", "x").base_url == "https://r.example.org"


def test_retries_back_off_then_give_up_with_one_message() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        raise RetryableError("registry r unreachable: refused")

    with pytest.raises(RegistryError, match="gave up after 3 attempts") as info:
        with_retries(flaky, "pushing r/x:1", RetryPolicy(attempts=3, first_delay=0.01))
    assert len(calls) == 3
    assert not isinstance(info.value, RetryableError)


def test_retries_stop_at_once_on_a_refusal() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise RegistryError("registry r refused: 401")

    with pytest.raises(RegistryError, match="refused"):
        with_retries(refused, "x", RetryPolicy(attempts=5, first_delay=0.01))
    assert len(calls) == 1


def test_retries_succeed_after_a_blip() -> None:
    outcomes: Iterator[Exception | str] = iter([RetryableError("blip"), "ok"])

    def once_flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_retries(once_flaky, "x", RetryPolicy(attempts=2, first_delay=0.01)) == "ok"


class TokenRegistry(http.server.BaseHTTPRequestHandler):
    """A registry speaking the bearer-token dance, to check the client's side of it."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        address = self.server.server_address
        assert isinstance(address, tuple)
        port = int(address[1])
        if self.path.startswith("/token"):
            assert self.headers["Authorization"].startswith("Basic ")
            return self._json(200, {"token": "t0k"})
        if self.headers.get("Authorization") != "Bearer t0k":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate", f'Bearer realm="http://127.0.0.1:{port}/token",service="test"'
            )
            self.end_headers()
            return None
        if self.path == "/v2/ska/a/manifests/1":
            body = {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": DIGEST},
                "layers": [{"size": 5}, {"size": 7}],
            }
            return self._json(200, body, {"Docker-Content-Digest": "sha256:" + "b" * 64})
        if self.path == "/v2/ska/a/tags/list?n=1000":
            return self._json(
                200,
                {"tags": ["latest", "2026-11-01-aaaaaaa"]},
                {"Link": '</v2/ska/a/tags/list?n=1000&last=latest>; rel="next"'},
            )
        if self.path == "/v2/ska/a/tags/list?n=1000&last=latest":
            return self._json(200, {"tags": ["2026-11-02-bbbbbbb"]})
        return self._json(404, {"errors": [{"message": "manifest unknown"}]})

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_bearer_token_flow_and_missing_tag() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = RegistryTarget.parse(f"127.0.0.1:{server.server_address[1]}/ska", "x")
        registry = RegistryClient(target, {"username": "u", "password": "p"})
        found = registry.manifest("a", "1")
        assert found is not None
        assert (found.digest, found.config_digest, found.layers_size) == (
            "sha256:" + "b" * 64,
            DIGEST,
            12,
        )
        assert registry.manifest("a", "2") is None
        assert registry.tags("a") == ["latest", "2026-11-01-aaaaaaa", "2026-11-02-bbbbbbb"]
        assert registry.tags("unknown") == []
    finally:
        server.shutdown()


def image(name: str, tag: str, letter: str) -> PublishedImage:
    return PublishedImage(
        name=name,
        repository=f"r:5000/ska/{name}",
        tag=tag,
        digest="sha256:" + letter * 64,
        image_id=DIGEST,
        jupyterhub="5.5.4",
    )


def test_history_newest_first_and_rerun_replaces(tmp_path: Path) -> None:
    day_one = "2026-11-01-aaaaaaa"
    one = Release(
        day_one,
        "r:5000/ska",
        "t1",
        "a" * 40,
        (image("base", day_one, "1"), image("ml", day_one, "2")),
    )
    two = Release(
        "2026-11-02-bbbbbbb",
        "r:5000/ska",
        "t2",
        "b" * 40,
        (image("base", "2026-11-02-bbbbbbb", "3"),),
    )
    store = ReleaseStore(tmp_path)
    store.add_to_history(one)
    store.add_to_history(two)
    store.add_to_history(two)
    history = store.history()
    assert [r.tag for r in history] == [two.tag, one.tag]
    assert history[0] == two
    assert "releases/2026-11-02-bbbbbbb/base.md" in (tmp_path / "HISTORY.md").read_text()
    # Profiles offer each image at its newest release.
    current = current_images(history)
    assert {i.name: i.tag for i in current.images} == {"base": two.tag, "ml": one.tag}


def inventory(tag: str, python: dict, debian: dict) -> Inventory:
    return Inventory(
        image="sdc1",
        release=tag,
        python="3.11.2",
        python_packages=python,
        debian_packages=debian,
        size=1,
        compressed_size=1,
        reference="r",
        tags=(tag,),
        digest=DIGEST,
    )


def test_diff_reports_added_removed_and_changed(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    for tag, python in (
        ("A", {"numpy": "2.3", "six": "1.16"}),
        ("B", {"numpy": "2.4", "jax": "0.9"}),
    ):
        store.write_inventory(inventory(tag, python, {"bash": "5.2"}))
    changes = diff_inventories(store.load_inventory("sdc1", "A"), store.load_inventory("sdc1", "B"))
    text = format_diff("sdc1", "A", "B", changes)
    assert "+ python jax 0.9" in text
    assert "- python six 1.16" in text
    assert "~ python numpy 2.3 -> 2.4" in text
    assert "bash" not in text
    assert format_diff("sdc1", "A", "A", []) == "sdc1: no package changes between A and A"


def test_diff_of_unknown_release_names_what_exists(tmp_path: Path) -> None:
    with pytest.raises(HubImagesError, match="no inventory of sdc1 for release 'X'"):
        ReleaseStore(tmp_path).load_inventory("sdc1", "X")


def built_image(name: str, created: str, version: str | None) -> TestedImage:
    labels = {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.revision": f"{name}-revision",
    }
    if version is not None:
        labels["org.opencontainers.image.version"] = version
    return TestedImage(name, Image(attrs={"Id": DIGEST, "Config": {"Labels": labels}}))


def test_release_tag_is_read_from_the_newest_build_never_from_the_clock() -> None:
    images = [
        built_image("base", "2026-11-20T10:00:00Z", "2026-11-20-aaaaaaa"),
        built_image("sdc1", "2026-11-24T23:59:59Z", "2026-11-24-bbbbbbb"),
        built_image("ml", "2026-11-22T08:00:00Z", "2026-11-22-ccccccc"),
    ]
    choice = release_choice(images)
    assert (choice.tag, choice.revision) == ("2026-11-24-bbbbbbb", "sdc1-revision")


def test_images_without_a_release_tag_label_cannot_be_released() -> None:
    with pytest.raises(HubImagesError, match="base: no release tag in the image labels"):
        release_choice([built_image("base", "2026-11-20T10:00:00Z", None)])
