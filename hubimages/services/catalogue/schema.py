"""The JSON Schema of the catalogue document (`invoke catalogue`, `/services/catalogue/api/
catalogue`): what a client such as ESAP may rely on. `invoke catalogue` validates every document
it writes against it; the service serves it at api/schema."""

from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://skahub.example.org/schemas/workflow-catalogue-1.json"
VERSION = 1

_TEXT = {"type": "string"}
_DIGEST = {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}
_VERSIONS = {"type": "object", "additionalProperties": {"type": "string"}}
_NAME = {"type": "string", "pattern": "^[a-z0-9]+(?:[._-][a-z0-9]+)*$"}

ENVIRONMENT: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "name",
        "variant",
        "default_variant",
        "debian_suite",
        "display_name",
        "description",
        "kind",
        "image",
        "digest",
        "release",
        "tags",
        "python",
        "python_packages",
        "debian_packages",
        "jupyterhub",
        "jupyterlab",
        "size",
        "spawn",
        "server_name",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {**_TEXT, "description": "name:variant, one per image and variant"},
        "name": _NAME,
        "variant": {**_NAME, "description": "the variant of the matrix (a Debian and Python)"},
        "default_variant": {
            "type": "boolean",
            "description": "the variant a spawner preselects for this image",
        },
        "debian_suite": _TEXT,
        "display_name": _TEXT,
        "description": _TEXT,
        "kind": {"enum": ["image", "community"]},
        "parent": {"type": ["string", "null"]},
        "image": {**_TEXT, "description": "the pinned reference, registry/name:tag@digest"},
        "digest": _DIGEST,
        "image_id": _TEXT,
        "release": _TEXT,
        "created": _TEXT,
        "revision": _TEXT,
        "tags": {"type": "array", "items": _TEXT},
        "python": _TEXT,
        "python_packages": _VERSIONS,
        "debian_packages": _VERSIONS,
        "jupyterhub": _TEXT,
        "jupyterlab": _TEXT,
        "size": {"type": "integer", "minimum": 0, "description": "bytes, uncompressed"},
        "compressed_size": {"type": "integer", "minimum": 0},
        "spawn": {
            **_VERSIONS,
            "description": "the spawn form's fields that choose this image and variant, for "
            "DockerSpawner (image) and KubeSpawner (profile and its variant option): a query",
        },
        "server_name": {**_TEXT, "description": "the named server a launch starts"},
        "findings": {"type": "array", "items": {"type": "object"}},
    },
}

WORKFLOW: dict[str, Any] = {
    "type": "object",
    "required": [
        "name",
        "display_name",
        "description",
        "repository",
        "ref",
        "commit",
        "served",
        "branch",
        "notebooks",
        "environment",
        "variant",
        "environment_id",
        "data",
        "passed",
        "runnable",
        "reason",
        "uses",
        "launch",
    ],
    "additionalProperties": False,
    "properties": {
        "name": _NAME,
        "display_name": _TEXT,
        "description": _TEXT,
        "repository": {**_TEXT, "description": "a folder of the platform's checkout, or a git URL"},
        "ref": _TEXT,
        "commit": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
        "served": {**_TEXT, "description": "the repository's path on the hub's git service"},
        "branch": {**_TEXT, "description": "its branch there, at commit"},
        "notebooks": {"type": "array", "items": _TEXT, "minItems": 1},
        "environment": _NAME,
        "variant": {**_NAME, "description": "the variant of the environment it runs in"},
        "environment_id": {**_TEXT, "description": "environment:variant, an environment's id"},
        "data": {
            "type": "array",
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["files", "at"],
                        "additionalProperties": False,
                        "properties": {"files": _TEXT, "at": _TEXT},
                    },
                    {
                        "type": "object",
                        "required": ["did"],
                        "additionalProperties": False,
                        "properties": {"did": _TEXT},
                    },
                ]
            },
        },
        "timeout": {"type": "integer", "minimum": 1},
        "passed": {
            "type": "array",
            "description": "every release where it passed, newest first",
            "items": {
                "type": "object",
                "required": ["release", "digest", "commit"],
                "additionalProperties": False,
                "properties": {
                    "release": _TEXT,
                    "digest": _DIGEST,
                    "commit": _TEXT,
                    "seconds": {"type": "number"},
                    "finished": _TEXT,
                },
            },
        },
        "runnable": {
            "type": "boolean",
            "description": "it passed on the environment's offered digest with these notebooks",
        },
        "reason": {**_TEXT, "description": "why it is not runnable ('' when it is)"},
        "uses": {**_VERSIONS, "description": "distributions its notebooks import, as run"},
        "launch": {**_TEXT, "description": "the launch link, relative to the service"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Workflow catalogue of a science platform release",
    "type": "object",
    "required": [
        "version",
        "generated",
        "registry",
        "release",
        "releases",
        "environments",
        "workflows",
    ],
    "additionalProperties": False,
    "properties": {
        "$schema": _TEXT,
        "version": {"const": VERSION},
        "generated": _TEXT,
        "registry": _TEXT,
        "release": {**_TEXT, "description": "the default variant's newest release"},
        "revision": _TEXT,
        "releases": {
            **_VERSIONS,
            "description": "each variant's newest release, which its environments come from",
        },
        "environments": {"type": "array", "items": ENVIRONMENT},
        "workflows": {"type": "array", "items": WORKFLOW},
    },
}
