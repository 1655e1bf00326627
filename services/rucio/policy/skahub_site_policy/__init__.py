"""Rucio policy package of the local deployment (`[policy] package` in its rucio.cfg).

Rucio's generic policy, with one change: a user may set the state of replicas on the RSEs users
write to (names ending in USERDISK, SCRATCHDISK or LOCALGROUPDISK). A plain `rucio upload` and the
JupyterLab extension's upload register the file, write it, then mark the replica available; under
the generic policy only admins may do that last step, so every user upload would stay
unavailable. Data-lake policy packages (ESCAPE's, SKA's) make the same choice for user RSEs.
"""

SUPPORTED_VERSION = [">=41.0"]
