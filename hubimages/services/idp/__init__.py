"""The site's OpenID Connect provider (`invoke idp`): oidc-provider from npm on the host's node,
with test users and groups, short-lived JWT access tokens for Rucio, refresh tokens, and a
login form. `provider.LocalIdp` starts and stops it; `site.IdpSite` describes a running one."""
