"""The workflow catalogue as a JupyterHub service: its document's schema, its queries, its page,
its web app, and the hub configuration that runs it (docs/workflows.md)."""
