"""Workflows in a real release (docs/workflows.md): run headless in the released image, recorded
per digest, and the catalogue, checked against the registry and against a real container of
the image; a workflow broken on purpose fails the release and is listed not runnable."""

from __future__ import annotations

import json
import time

import docker
import jsonschema
import pytest
import yaml

from hubimages.services.catalogue.schema import SCHEMA
from hubimages.verify.workflow_results import run_key
from tests.publish.helpers import (
    DEFAULT,
    OTHERS,
    REMOTE,
    Project,
    Registry,
    release,
    require_every_variant_base,
)
from tests.publish.test_release import one_error_line, published, remote_digest

pytestmark = pytest.mark.slow


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
                for i, source in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


GREET = notebook(
    "import six\nfrom pathlib import Path",
    "name = Path('/data/greet/name.txt').read_text().strip()",
    "print(Path('/opt/hello/greeting.txt').read_text().strip(), name, 'six', six.__version__)",
)


@pytest.fixture
def with_workflow(project: Project) -> Project:
    matrix = yaml.safe_load(project.matrix.read_text())
    matrix["workflows"] = {
        "greet": {
            "display_name": "Greet",
            "description": "Greets the name of the data.",
            "repository": "flows/greet",
            "notebooks": ["greet.ipynb"],
            "environment": "hello",
            "data": [{"files": "data/greet", "at": "/data/greet"}],
            "timeout": 120,
        }
    }
    project.write("build-matrix.yaml", yaml.safe_dump(matrix, sort_keys=False))
    project.write("flows/greet/greet.ipynb", GREET)
    project.write("data/greet/name.txt", "world\n")
    project.commit("a workflow")
    return project


def in_container(client: docker.DockerClient, image_id: str, command: list[str]) -> str:
    out = client.containers.run(image_id, command, entrypoint=[], remove=True, network_mode="none")
    return out.decode()


def installed(client: docker.DockerClient, image_id: str) -> dict[str, str]:
    """What pip in a container of the image says is installed."""
    out = in_container(client, image_id, ["python", "-m", "pip", "list", "--format=json"])
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out)}


def debian(client: docker.DockerClient, image_id: str) -> dict[str, str]:
    """What dpkg in a container of the image says is installed."""
    out = in_container(
        client, image_id, ["dpkg-query", "-W", "-f", "${db:Status-Status} ${Package} ${Version}\\n"]
    )
    rows = [line.split(" ") for line in out.splitlines()]
    return {name: version for status, name, version in rows if status == "installed"}


def test_a_release_runs_records_and_catalogues_the_workflow(
    with_workflow: Project, registry: Registry, client: docker.DockerClient
) -> None:
    project = with_workflow
    result = release(project, registry)
    assert result.returncode == 0, result.stderr[-3000:]
    sha = project.git("rev-parse", "--short=7", "HEAD")
    tag = f"{time.strftime('%Y-%m-%d', time.gmtime())}-{sha}"
    folder = published(project, registry)
    document = json.loads((folder / "catalogue" / "catalogue.json").read_text())
    jsonschema.validate(document, SCHEMA)

    (environment,) = document["environments"]  # a release without --variant: the default's
    assert environment["id"] == f"hello:{DEFAULT.name}" and environment["default_variant"]
    assert environment["digest"] == remote_digest(registry, tag)
    assert environment["image"] == f"{registry.host}/{REMOTE}/hello:{tag}@{environment['digest']}"
    real = installed(client, environment["image_id"])
    catalogued = {k.lower().replace("_", "-"): v for k, v in environment["python_packages"].items()}
    assert catalogued == real
    assert environment["debian_packages"] == debian(client, environment["image_id"])

    (workflow,) = document["workflows"]
    assert workflow["runnable"] and workflow["reason"] == ""
    assert workflow["environment_id"] == environment["id"]
    assert [p["digest"] for p in workflow["passed"]] == [environment["digest"]]
    assert workflow["uses"] == {"six": "1.16.0"}
    passes = json.loads((folder / "releases" / tag / "workflows.json").read_text())
    assert [(p["workflow"], p["digest"]) for p in passes] == [("greet", environment["digest"])]
    executed = next((project.root / ".cache" / "workflows" / "runs" / "greet").glob("*/executed"))
    cells = json.loads((executed / "greet.ipynb").read_text())["cells"]
    assert cells[2]["outputs"][0]["text"] == ["hello 1 world six 1.16.0\n"]
    page = (folder / "catalogue" / "index.html").read_text()
    assert 'href="launch/greet"' in page and "<script" not in page


def test_a_broken_workflow_fails_its_release_and_is_not_runnable(
    with_workflow: Project, registry: Registry
) -> None:
    project = with_workflow
    assert release(project, registry).returncode == 0
    tags_before = registry.tags(f"{REMOTE}/hello")
    project.write("flows/greet/greet.ipynb", GREET.replace("name.txt", "nobody.txt"))
    project.commit("break the workflow")
    error = one_error_line(release(project, registry))
    where = f"hello ({DEFAULT.name})"
    assert f"{where}: workflow 'greet' failed: notebook greet.ipynb, cell 2" in error, error
    assert "FileNotFoundError" in error
    assert "nothing was pushed (held back: hello, in every variant)" in error
    assert registry.tags(f"{REMOTE}/hello") == tags_before

    catalogue = project.invoke("catalogue", f"--registry={registry.host}/{REMOTE}")
    assert catalogue.returncode == 0, catalogue.stderr[-2000:]
    document = json.loads(
        (published(project, registry) / "catalogue" / "catalogue.json").read_text()
    )
    (workflow,) = document["workflows"]
    assert not workflow["runnable"]
    assert "notebook greet.ipynb, cell 2" in workflow["reason"]
    assert len(workflow["passed"]) == 1  # the earlier notebooks passed there, and say so


PYTHON = notebook(
    "import sys, six",
    "print(f'python {sys.version_info.major}.{sys.version_info.minor} six {six.__version__}')",
)


def test_each_variant_runs_and_offers_its_own_workflows(
    with_workflow: Project, registry: Registry, client: docker.DockerClient
) -> None:
    """`--variant all`: greet runs in the default variant only, version in another variant
    only (in that variant's image: its Python); the catalogue lists hello once per variant at
    that variant's digest, and each workflow runnable in its own."""
    require_every_variant_base(client)
    project, other = with_workflow, OTHERS[0].variant
    matrix = yaml.safe_load(project.matrix.read_text())
    matrix["workflows"]["version"] = {
        "display_name": "Version",
        "description": "Says which Python runs it.",
        "repository": "flows/version",
        "notebooks": ["version.ipynb"],
        "environment": "hello",
        "variant": other.name,
        "timeout": 120,
    }
    project.write("build-matrix.yaml", yaml.safe_dump(matrix, sort_keys=False))
    project.write("flows/version/version.ipynb", PYTHON)
    project.commit("a workflow in another variant")
    result = release(project, registry, "--variant=all")
    assert result.returncode == 0, result.stderr[-3000:]
    sha = project.git("rev-parse", "--short=7", "HEAD")
    tag = f"{time.strftime('%Y-%m-%d', time.gmtime())}-{sha}"
    tags = {DEFAULT.name: tag, other.name: f"python-{other.python}-{tag}"}
    folder = published(project, registry)
    document = json.loads((folder / "catalogue" / "catalogue.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["releases"][other.name] == tags[other.name]

    environments = {e["variant"]: e for e in document["environments"]}
    for variant, variant_tag in tags.items():
        assert environments[variant]["digest"] == remote_digest(registry, variant_tag)
        real = installed(client, environments[variant]["image_id"])
        listed = environments[variant]["python_packages"]
        assert {k.lower().replace("_", "-"): v for k, v in listed.items()} == real
    flows = {w["name"]: w for w in document["workflows"]}
    assert flows["greet"]["environment_id"] == f"hello:{DEFAULT.name}"
    assert flows["version"]["environment_id"] == f"hello:{other.name}"
    for name, variant in (("greet", DEFAULT.name), ("version", other.name)):
        assert flows[name]["runnable"], flows[name]["reason"]
        assert [p["digest"] for p in flows[name]["passed"]] == [environments[variant]["digest"]]
        passes = json.loads((folder / "releases" / tags[variant] / "workflows.json").read_text())
        assert [p["workflow"] for p in passes] == [name]  # each release runs its variant's only
    runs = project.root / ".cache" / "workflows" / "runs"
    (executed,) = (runs / "version").glob("*/executed")  # once, in the other variant's image
    assert executed.parent.name == run_key(environments[other.name]["image_id"])
    cells = json.loads((executed / "version.ipynb").read_text())["cells"]
    assert cells[1]["outputs"][0]["text"] == [f"python {other.python} six 1.16.0\n"]
    assert [p.parent.name for p in (runs / "greet").glob("*/executed")] == [
        run_key(environments[DEFAULT.name]["image_id"])
    ]
