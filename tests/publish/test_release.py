"""`invoke release`, `push`, `profiles`, `history` and `diff` as an admin runs them, against a
real registry on 127.0.0.1 and the real engine."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time

import docker
import pytest
import yaml

from hubimages.core.waiting import wait_until
from hubimages.deps.lockfile import lock_name
from hubimages.publish.registry import RegistryClient
from hubimages.publish.target import RegistryTarget
from tests.publish.helpers import (
    ALLOW_UNAUDITED,
    CONTAINER_TEST,
    DEFAULT,
    NAMESPACE,
    OTHERS,
    REMOTE,
    REPO,
    Project,
    Registry,
    release,
    require_every_variant_base,
    six_lock,
)

pytestmark = pytest.mark.slow


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def published(project: Project, registry: Registry):
    return project.publish / f"{registry.host.replace(':', '_')}_{REMOTE}"


def chosen_image(profile: dict, variant: str = DEFAULT.name) -> str:
    """The image a z2jh profile runs in a variant (its profile option's choice)."""
    return profile["profile_options"]["variant"]["choices"][variant]["kubespawner_override"][
        "image"
    ]


def remote_digest(registry: Registry, tag: str) -> str | None:
    remote = RegistryClient(RegistryTarget(registry.host, REMOTE)).manifest("hello", tag)
    return remote.digest if remote else None


def test_release_round_trip(project: Project, registry: Registry, client) -> None:
    sha = project.git("rev-parse", "--short=7", "HEAD")
    result = release(project, registry)
    assert result.returncode == 0, result.stderr[-3000:]
    tag = f"{time.strftime('%Y-%m-%d', time.gmtime())}-{sha}"
    assert tag in registry.tags(f"{REMOTE}/hello")
    python = f"python-{DEFAULT.python}"
    assert {"latest", python, f"{python}-{tag}"} <= set(registry.tags(f"{REMOTE}/hello"))
    assert not any(
        t.startswith(f"python-{o.variant.python}")
        for t in registry.tags(f"{REMOTE}/hello")
        for o in OTHERS
    )  # a release without --variant: the default variant
    folder = published(project, registry)

    manifest = json.loads((folder / "releases" / tag / "hello.json").read_text())
    assert manifest["digest"] == remote_digest(registry, tag)
    assert manifest["python_packages"]["six"] == "1.16.0"
    assert manifest["jupyterhub"] and manifest["jupyterlab"]
    assert "bash" in manifest["debian_packages"]
    assert manifest["parent"]["name"].endswith(f"/base:python-{DEFAULT.python}")
    assert manifest["revision"] == project.git("rev-parse", "HEAD")
    assert manifest["compressed_size"] > 10**6
    assert (
        f"| digest | `{manifest['digest']}` |"
        in (folder / "releases" / tag / "hello.md").read_text()
    )
    assert tag in (folder / "HISTORY.md").read_text()
    pushes = [json.loads(line) for line in (folder / "pushes.jsonl").read_text().splitlines()]
    assert {p["tag"] for p in pushes} >= {tag, "latest"}
    assert {p["digest"] for p in pushes} == {manifest["digest"]}

    values = yaml.safe_load((folder / "profiles" / "z2jh-values.yaml").read_text())
    (profile,) = values["singleuser"]["profileList"]
    (choice,) = profile["profile_options"]["variant"]["choices"].values()
    pinned = choice["kubespawner_override"]["image"]
    assert pinned == f"{registry.host}/{REMOTE}/hello:{tag}@{manifest['digest']}"
    assert manifest["jupyterhub"] in choice["display_name"]

    # Delete every local copy, then pull by the profile's reference and run it.
    for image_tag in client.images.get(manifest["image_id"]).tags:
        client.images.remove(image_tag, force=True)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(manifest["image_id"])
    repository, digest = pinned.split("@")
    client.images.pull(repository.rsplit(":", 1)[0], tag=digest)
    out = client.containers.run(
        pinned.split(":" + tag)[0] + "@" + digest,
        ["cat", "/opt/hello/greeting.txt"],
        entrypoint=[],
        remove=True,
        network_mode="none",
    )
    assert out.decode() == "hello 1\n"
    assert client.images.get(pinned.split(":" + tag)[0] + "@" + digest).id == manifest["image_id"]


def test_second_release_history_diff_and_pin_back(project: Project, registry: Registry) -> None:
    first = release(project, registry)
    assert first.returncode == 0, first.stderr[-3000:]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    first_tag = f"{today}-{project.git('rev-parse', '--short=7', 'HEAD')}"
    project.write(f"images/hello/{lock_name(DEFAULT.name)}", six_lock("1.17.0"))
    project.write("images/hello/greeting.txt", "hello 2\n")
    second_tag = f"{today}-{project.commit('six 1.17')}"
    second = release(project, registry)
    assert second.returncode == 0, second.stderr[-3000:]

    history = project.invoke("history")  # one registry released to: no --registry needed
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [second_tag, first_tag]

    diff = project.invoke("diff", "hello", first_tag, second_tag)
    assert diff.returncode == 0, diff.stderr
    assert "~ python six 1.16.0 -> 1.17.0" in diff.stdout
    assert "debian" not in diff.stdout  # same base, same Debian packages

    folder = published(project, registry)
    profiles = folder / "profiles" / "z2jh-values.yaml"
    newest = yaml.safe_load(profiles.read_text())["singleuser"]["profileList"][0]
    assert f":{second_tag}@{remote_digest(registry, second_tag)}" in chosen_image(newest)

    # Pin the first release back: resolved from the registry, not from local records.
    (folder / "history.json").rename(folder / "history.json.away")
    pinned = project.invoke(
        "profiles", f"--registry={registry.host}/{REMOTE}", f"--release={first_tag}"
    )
    assert pinned.returncode == 0, pinned.stderr
    old = yaml.safe_load(profiles.read_text())["singleuser"]["profileList"][0]
    assert chosen_image(old) == (
        f"{registry.host}/{REMOTE}/hello:{first_tag}@{remote_digest(registry, first_tag)}"
    )
    # read from the image's labels in the registry
    assert "JupyterHub " in str(old["profile_options"])
    malformed = project.invoke("profiles", f"--registry={registry.host}/{REMOTE}", "--release=nope")
    assert "is not a release tag like" in one_error_line(malformed)
    missing = project.invoke(
        "profiles", f"--registry={registry.host}/{REMOTE}", "--release=2020-01-01-0000000"
    )
    assert "no image of build-matrix.yaml has that tag" in one_error_line(missing)

    # A machine without the records: history and diff come from the registry.
    (folder / "releases").rename(folder / "releases.away")
    remote = project.invoke("history", f"--registry={registry.host}/{REMOTE}", "--remote")
    assert remote.returncode == 0, remote.stderr
    assert [line.split()[0] for line in remote.stdout.splitlines()] == [second_tag, first_tag]
    pulled = project.invoke(
        "diff", "hello", first_tag, second_tag, f"--registry={registry.host}/{REMOTE}"
    )
    assert pulled.returncode == 0, pulled.stderr
    assert "~ python six 1.16.0 -> 1.17.0" in pulled.stdout
    assert "pulling" in pulled.stderr


def test_release_keeps_the_tag_its_build_decided_across_midnight(
    project: Project, registry: Registry, client
) -> None:
    """Built at 23:59 UTC yesterday (the build's clock, SOURCE_DATE_EPOCH), released today:
    the registry tag, the local tag and the version label are the build's one tag."""
    midnight = int(time.time()) // 86400 * 86400
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(midnight - 60))
    today = time.strftime("%Y-%m-%d", time.gmtime(midnight))
    sha = project.git("rev-parse", "--short=7", "HEAD")
    tested = project.invoke("test", "-i", "hello", env={"SOURCE_DATE_EPOCH": str(midnight - 60)})
    assert tested.returncode == 0, tested.stderr[-3000:]
    released = release(project, registry)
    assert released.returncode == 0, released.stderr[-3000:]
    assert f"[hello {DEFAULT.name}] up to date" in released.stderr
    tags = registry.tags(f"{REMOTE}/hello")
    assert f"{yesterday}-{sha}" in tags
    assert f"{today}-{sha}" not in tags
    image = client.images.get(f"{NAMESPACE}/hello:latest")
    assert image.labels["org.opencontainers.image.version"] == f"{yesterday}-{sha}"
    assert f"{NAMESPACE}/hello:{yesterday}-{sha}" in image.tags
    assert f"release {yesterday}-{sha} ({DEFAULT.name}) to " in released.stdout


def test_immutable_tag_is_never_overwritten(project: Project, registry: Registry) -> None:
    first = release(project, registry)
    assert first.returncode == 0, first.stderr[-3000:]
    tag = next(t for t in registry.tags(f"{REMOTE}/hello") if t[0].isdigit())
    digest = remote_digest(registry, tag)
    history = (published(project, registry) / "history.json").read_text()
    # Same commit, same day, new content (a forced rebuild has a new image id): the same
    # immutable tag would change.
    assert project.invoke("build", "-i", "hello", "--force").returncode == 0
    assert project.invoke("test", "-i", "hello").returncode == 0
    second = release(project, registry)
    error = one_error_line(second)
    assert f"{REMOTE}/hello:{tag} already exists with different content" in error
    assert "never overwritten" in error
    assert remote_digest(registry, tag) == digest
    assert remote_digest(registry, "latest") == digest  # moving tags did not move either
    assert (published(project, registry) / "history.json").read_text() == history


def test_push_refuses_untested_image(project: Project, registry: Registry) -> None:
    built = project.invoke("build", "-i", "hello")
    assert built.returncode == 0, built.stderr[-2000:]
    pushed = project.invoke("push", "-i", "hello", f"--registry={registry.host}/{REMOTE}")
    error = one_error_line(pushed)
    assert "has not passed its tests at this image id" in error
    assert "invoke test -i hello" in error
    assert registry.tags(f"{REMOTE}/hello") == []


def test_failing_tests_block_the_push(project: Project, registry: Registry) -> None:
    project.write("images/hello/greeting.txt", "broken\n")
    project.commit("break the greeting")
    result = release(project, registry)
    error = one_error_line(result)
    assert f"hello ({DEFAULT.name}): container tests failed: nothing was pushed" in error
    assert registry.tags(f"{REMOTE}/hello") == []
    assert not published(project, registry).joinpath("profiles").exists()


def test_unreachable_registry_gives_up_after_bounded_retries(
    project: Project, registry: Registry
) -> None:
    registry.stop()
    started = time.monotonic()
    result = release(project, registry, "--retries=3")
    elapsed = time.monotonic() - started
    error = one_error_line(result)
    assert f"registry {registry.host} unreachable" in error
    assert "gave up after 3 attempts" in error
    assert result.stderr.count("retrying in") == 2  # waits 1 s, then 2 s
    assert elapsed < 300
    assert not published(project, registry).joinpath("history.json").exists()


def test_registry_killed_mid_push_then_rerun_completes(
    project: Project, registry: Registry
) -> None:
    uploads = registry.storage / f"docker/registry/v2/repositories/{REMOTE}/hello/_uploads"
    killed = threading.Event()

    def kill_on_first_upload() -> None:
        def uploading_or_over() -> bool:  # over: the release ended without an upload
            return killed.is_set() or (uploads.is_dir() and any(uploads.iterdir()))

        if wait_until(uploading_or_over, 600, interval=0.05) and not killed.is_set():
            registry.stop(signal.SIGKILL)
            killed.set()

    watcher = threading.Thread(target=kill_on_first_upload, daemon=True)
    watcher.start()
    failed = release(project, registry, "--retries=2")
    killed.set()
    watcher.join()
    error = one_error_line(failed)
    assert "gave up after 2 attempts" in error
    folder = published(project, registry)
    assert not (folder / "history.json").exists()
    assert not (folder / "profiles").exists()

    registry.start()  # same storage, same port: what was uploaded before is still there
    rerun = release(project, registry)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"[hello {DEFAULT.name}] up to date" in rerun.stderr
    assert f"[hello {DEFAULT.name}] tests already passed" in rerun.stderr
    assert (folder / "profiles" / "z2jh-values.yaml").is_file()
    assert "latest" in registry.tags(f"{REMOTE}/hello")


def test_registry_with_auth_uses_credentials_without_printing_them(
    project: Project, tmp_path_factory
) -> None:
    import bcrypt

    root = tmp_path_factory.mktemp("auth-registry")
    password = "s3cret-Pa55"  # noqa: S105 - a test registry's password
    htpasswd = root / "htpasswd"
    htpasswd.write_text("admin:" + bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())
    secured = Registry(root, htpasswd=htpasswd)
    secured.start()
    try:
        refused = release(project, secured, "--retries=1")
        error = one_error_line(refused)
        assert "needs credentials" in error or "refused" in error
        assert secured.tags(f"{REMOTE}/hello") == []
        env = {"HUBIMAGES_REGISTRY_USER": "admin", "HUBIMAGES_REGISTRY_PASSWORD": password}
        accepted = release(project, secured, env=env)
        assert accepted.returncode == 0, accepted.stderr[-3000:]
        assert password not in accepted.stdout + accepted.stderr
        assert "latest" in secured.tags(f"{REMOTE}/hello")
        # The usual docker config works too (what `docker login` writes).
        config_dir = root / "docker-config"
        config_dir.mkdir()
        auth = base64.b64encode(f"admin:{password}".encode()).decode()
        (config_dir / "config.json").write_text(
            json.dumps({"auths": {secured.host: {"auth": auth}}})
        )
        project.write("images/hello/greeting.txt", "hello again\n")
        project.commit("again")
        logged_in = release(project, secured, env={"DOCKER_CONFIG": str(config_dir)})
        assert logged_in.returncode == 0, logged_in.stderr[-3000:]
        assert password not in logged_in.stdout + logged_in.stderr
        assert len([t for t in secured.tags(f"{REMOTE}/hello") if t[0].isdigit()]) == 2
        for path in (REPO / ".cache").glob("**/*.json*"):
            assert password not in path.read_text(errors="replace"), path
        for path in project.publish.rglob("*"):
            if path.is_file():
                assert password not in path.read_text(errors="replace"), path
    finally:
        secured.stop()


def test_uncommitted_changes_are_refused_unless_marked_dirty(
    project: Project, registry: Registry, client
) -> None:
    project.write("images/hello/greeting.txt", "hello, not committed\n")
    refused = release(project, registry)
    error = one_error_line(refused)
    assert "uncommitted changes reach the released images (images/hello/greeting.txt)" in error
    assert "--dirty" in error
    assert registry.tags(f"{REMOTE}/hello") == []
    sha = project.git("rev-parse", "--short=7", "HEAD")
    dirty = release(project, registry, "--dirty")
    assert dirty.returncode == 0, dirty.stderr[-3000:]
    [tag] = [t for t in registry.tags(f"{REMOTE}/hello") if t[0].isdigit()]
    assert tag.endswith(f"-{sha}-dirty")
    labels = client.images.get(f"{NAMESPACE}/hello:latest").labels
    assert labels["org.skahub.dirty"] == "true"
    assert labels["org.opencontainers.image.version"] == tag
    # Pushing those images again needs the flag too.
    pushed = project.invoke("push", "-i", "hello", f"--registry={registry.host}/other")
    assert "built from uncommitted changes" in one_error_line(pushed)
    # Committed, the image is rebuilt with a clean tag and labels.
    project.commit("the greeting")
    clean = release(project, registry)
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert f"[hello {DEFAULT.name}] building: inputs changed" in clean.stderr
    assert client.images.get(f"{NAMESPACE}/hello:latest").labels["org.skahub.dirty"] == "false"


def test_remote_credentials_never_reach_labels_output_or_records(
    project: Project, registry: Registry, client
) -> None:
    token = "ghp_S3cretT0ken"  # noqa: S105 - what a leaked token would look like
    project.git(
        "remote",
        "add",
        "origin",
        f"https://someone:{token}@git.example.invalid/ska/images.git?private_token=x",
    )
    result = release(project, registry)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = client.images.get(f"{NAMESPACE}/hello:latest").labels
    assert labels["org.opencontainers.image.source"] == "https://git.example.invalid/ska/images.git"
    assert token not in result.stdout + result.stderr
    assert "private_token" not in result.stdout + result.stderr
    for path in project.publish.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
    config = RegistryClient(RegistryTarget(registry.host, REMOTE))
    remote = config.manifest("hello", "latest")
    assert remote is not None and remote.config_digest
    assert token not in json.dumps(config.labels("hello", remote.config_digest))


def test_a_community_environment_is_built_tested_released_and_offered(
    project: Project, registry: Registry, client
) -> None:
    """An environment of the matrix: a repository built onto `hello` with repo2docker, its
    shared checks run, pushed with the release, offered in the profiles after its image."""
    matrix = yaml.safe_load(project.matrix.read_text())
    matrix["environments"] = {
        "hello-lab": {
            "repository": "environments/hello-lab",
            "parent": "hello",
            "display_name": "Hello lab: a repository",
            "description": "A scientist's repository.",
        }
    }
    project.write("build-matrix.yaml", yaml.safe_dump(matrix))
    project.write("environments/hello-lab/binder/requirements.txt", "six\n")
    project.write("environments/hello-lab/binder/postBuild", "#!/bin/bash\necho ok > built\n")
    project.write("tests/containers/shared/test_runs.py", CONTAINER_TEST)
    project.commit("an environment")
    result = project.invoke("release", f"--registry={registry.host}/{REMOTE}", ALLOW_UNAUDITED)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"[hello-lab {DEFAULT.name}] building" in result.stderr
    assert "tests/containers/shared" in result.stderr  # its checks ran
    assert "latest" in registry.tags(f"{REMOTE}/hello-lab")
    profiles = yaml.safe_load(
        (published(project, registry) / "profiles" / "z2jh-values.yaml").read_text()
    )["singleuser"]["profileList"]
    assert [p["slug"] for p in profiles] == ["hello", "hello-lab"]
    pinned = chosen_image(profiles[1])
    assert pinned.startswith(f"{registry.host}/{REMOTE}/hello-lab:") and "@sha256:" in pinned
    out = client.containers.run(
        f"{NAMESPACE}/hello-lab:latest",
        ["cat", "built"],
        entrypoint=[],
        remove=True,
        network_mode="none",
    )
    assert out.decode() == "ok\n"


def test_every_variant_is_released_tagged_and_offered(
    project: Project, registry: Registry, client
) -> None:
    """`--variant all`: the default variant under today's tags, every other one under tags that
    name its Python; a release record each; one profile whose choices are the variants; a diff
    from one variant to another."""
    require_every_variant_base(client)
    result = release(project, registry, "--variant=all")
    assert result.returncode == 0, result.stderr[-3000:]
    sha = project.git("rev-parse", "--short=7", "HEAD")
    tag = f"{time.strftime('%Y-%m-%d', time.gmtime())}-{sha}"
    tags = set(registry.tags(f"{REMOTE}/hello"))
    default = f"python-{DEFAULT.python}"
    assert {tag, "latest", default, f"{default}-{tag}"} <= tags
    assert remote_digest(registry, f"{default}-{tag}") == remote_digest(registry, tag)
    expected = [[tag, DEFAULT.name]]
    for other in OTHERS:
        prefix = f"python-{other.variant.python}"
        assert {prefix, f"{prefix}-{tag}"} <= tags
        assert "latest" != prefix
        own = remote_digest(registry, f"{prefix}-{tag}")
        assert own == remote_digest(registry, prefix) != remote_digest(registry, tag)
        expected.append([f"{prefix}-{tag}", other.variant.name])
    history = project.invoke("history")
    assert history.returncode == 0, history.stderr
    assert sorted(line.split()[:2] for line in history.stdout.splitlines()) == sorted(expected)

    values = yaml.safe_load(
        (published(project, registry) / "profiles" / "z2jh-values.yaml").read_text()
    )
    (profile,) = values["singleuser"]["profileList"]  # still one profile per image
    choices = profile["profile_options"]["variant"]["choices"]
    assert list(choices) == [DEFAULT.name, *(o.variant.name for o in OTHERS)]
    assert choices[DEFAULT.name]["default"] is True
    for other in OTHERS:
        variant_tag = f"python-{other.variant.python}-{tag}"
        assert chosen_image(profile, other.variant.name) == (
            f"{registry.host}/{REMOTE}/hello:{variant_tag}@{remote_digest(registry, variant_tag)}"
        )
        diff = project.invoke("diff", "hello", tag, variant_tag)
        assert diff.returncode == 0, diff.stderr
        assert "~ debian" in diff.stdout  # another Debian
        assert "six" not in diff.stdout  # the same locked wheel in both


def test_bad_registry_argument_is_one_line(project: Project) -> None:
    result = project.invoke("release", "-i", "hello", "--registry=not a host")
    assert "--registry 'not a host'" in one_error_line(result)
    missing = project.invoke("push", "-i", "hello")
    assert "--registry is missing" in one_error_line(missing)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
