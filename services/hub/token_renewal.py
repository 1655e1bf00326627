"""A JupyterHub config fragment: renew users' access tokens before they expire.

Load it from jupyterhub_config.py after configuring GenericOAuthenticator with
`enable_auth_state`, `userdata_from_id_token` and a provider that issues refresh tokens:

    load_subconfig("token_renewal.py")

OAuthenticator's own refresh_user refreshes only once the access token has failed (expired),
and with `userdata_from_id_token` an expired ID token even fails the request that asked. This
hook refreshes with the refresh token as soon as less than RENEW_AT of the access token's
lifetime is left (whenever the hub checks the user: a request after Authenticator.
auth_refresh_age, a spawn, or a session asking for its token), so what the hub hands out
always has most of its lifetime ahead. The refresh token never leaves the hub. A refresh the
provider refuses means a new login.
"""

import base64
import json
import time

# Renew once less than 2/3 of the lifetime is left. Sessions (skahub_token_file in the
# images) ask at 60 % left: the hub then always has a fresh token for them.
RENEW_AT = 2 / 3


def token_times(token):
    """(issued at, expires at) of a JWT access token, unchecked (it only times the renewal)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims.get("iat", 0)), float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


async def renew_before_expiry(authenticator, user, auth_state):
    """OAuthenticator's refresh_user_hook: True (fresh), False (log in again), or the new
    auth model."""
    if not auth_state or not auth_state.get("access_token"):
        return False
    times = token_times(auth_state["access_token"])
    if times is None:
        return None  # not a JWT: OAuthenticator's own check
    issued, expires = times
    if expires - time.time() > RENEW_AT * max(expires - issued, 0):
        return True
    refresh_token = auth_state.get("refresh_token")
    if not refresh_token:
        return False
    params = authenticator.build_refresh_token_request_params(refresh_token)
    try:
        token_info = await authenticator.get_token_info(None, params)
    except Exception as error:  # the provider's refusal, or no answer: log in again
        authenticator.log.info("token refresh for %s failed (%s): new login", user.name, error)
        return False
    token_info.setdefault("refresh_token", refresh_token)
    model = await authenticator._token_to_auth_model(token_info)
    times = token_times(token_info["access_token"])
    left = f"{times[1] - time.time():.0f} s" if times else "unknown"
    authenticator.log.info("renewed the access token of %s (valid %s)", user.name, left)
    return model


c = get_config()  # noqa: F821 - provided by JupyterHub's config loader
c.GenericOAuthenticator.refresh_user_hook = renew_before_expiry
