"""A real Rucio deployment on this host, for the rucio stack's tests and for admins to try:
PostgreSQL and Apache (WebDAV over HTTPS) from Debian, the Rucio server from PyPI in a venv of
its own, served by gunicorn, all bound to the gateway of a docker network it creates.

`deployment.LocalRucio` starts and stops it; `site.RucioSite` describes a running one."""
