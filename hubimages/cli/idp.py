"""`invoke idp`: the site's OpenID Connect provider on this host (and `--stop`)."""

from __future__ import annotations

import docker

from hubimages.core.cache import slug
from hubimages.model.project import Project, open_project
from hubimages.services.idp.provider import LocalIdp
from hubimages.services.idp.site import IdpSite
from hubimages.services.tls import SiteCA


def local_idp(project: Project) -> LocalIdp:
    """The provider of this namespace (two checkouts on one engine keep theirs apart)."""
    return LocalIdp(
        project.root / "services" / "idp",
        project.cache.idp,
        SiteCA(project.cache.site_ca),
        slug(project.matrix.settings.namespace.replace("/", "-")),
        docker.from_env(),
    )


def idp(stop: bool) -> None:
    local = local_idp(open_project())
    if stop:
        was = local.stop()
        print("stopped the identity provider" if was else "no identity provider was running")
        return
    site = local.running_site()
    if site is not None:
        print("the identity provider is already running")
    else:
        site = local.start()
        print(f"identity provider started in {site.started_in:.1f} s")
    print(hint(site))


def hint(site: IdpSite) -> str:
    users = ", ".join(f"{u.username} ({' '.join(u.groups)})" for u in site.users)
    return "\n".join(
        [
            f"  issuer    {site.issuer} (discovery: {site.discovery_url})",
            f"  network   {site.network} (it listens on its gateway {site.gateway})",
            f"  CA        {site.ca_cert}",
            f"  users     {users}; their passwords: {site.users_file} (mode 600)",
            f"  tokens    JWT access tokens for {site.resource} (aud {site.audience}), "
            f"{site.access_token_seconds} s; refresh tokens; PKCE required",
            "then: invoke rucio-site --auth oidc; invoke hub --auth oidc",
            "stop: invoke idp --stop",
        ]
    )
