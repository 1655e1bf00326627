"""The SDC1 data fixtures, shared with tests/containers/pybdsf."""

from sdc1_fixtures import run_container, sdc1_data  # noqa: F401 - fixtures used by the tests
