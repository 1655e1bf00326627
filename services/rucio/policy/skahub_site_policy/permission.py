"""Permissions: the generic policy's, plus one: an account may set the state of replicas of its
own scope's files on user RSEs (what its uploads need), and of no one else's."""

import sys

USER_WRITABLE_SUFFIXES = ("USERDISK", "SCRATCHDISK", "LOCALGROUPDISK")
# Rucio hands this check the RSE only, not the files (rucio.gateway.replica builds kwargs
# {'rse', 'rse_id'}): the files are read from that caller's frame.
CALLER = ("rucio.gateway.replica", "update_replicas_states")
MAX_DEPTH = 12


def _files_being_updated():
    frame = sys._getframe(1)
    for _ in range(MAX_DEPTH):
        if frame is None:
            return None
        if (frame.f_globals.get("__name__"), frame.f_code.co_name) == CALLER:
            files = frame.f_locals.get("files")
            return list(files) if isinstance(files, list) else None
        frame = frame.f_back
    return None


def _owns_scopes(issuer, files, session):
    from rucio.core.scope import get_scopes  # the server's own package, loaded with it

    owned = {str(scope) for scope in get_scopes(issuer, session=session)}
    return bool(files) and all(str(f.get("scope")) in owned for f in files)


def has_permission(issuer, action, kwargs, session):  # the signature Rucio calls
    """True for what this package allows; None hands the decision to the generic policy."""
    rse = str(kwargs.get("rse", ""))
    if action == "update_replicas_states" and rse.endswith(USER_WRITABLE_SUFFIXES):
        files = _files_being_updated()
        if files is not None and _owns_scopes(issuer, files, session):
            return True
    return None
