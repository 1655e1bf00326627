"""Permissions: the generic policy's, plus replica state updates by users on user RSEs."""

USER_WRITABLE_SUFFIXES = ("USERDISK", "SCRATCHDISK", "LOCALGROUPDISK")


def has_permission(issuer, action, kwargs, session):  # the signature Rucio calls
    """True for what this package allows; None hands the decision to the generic policy."""
    rse = str(kwargs.get("rse", ""))
    if action == "update_replicas_states" and rse.endswith(USER_WRITABLE_SUFFIXES):
        return True
    return None
