"""Schema: Rucio's generic one (a policy package must name one; without this module the server
logs that it falls back to generic)."""

from rucio.common.schema.generic import *  # noqa: F403
