"""Fixtures of the publish tests live in publish_fixtures.py, importable by the tests too."""

from publish_fixtures import client, project, registry  # noqa: F401 - pytest fixtures
