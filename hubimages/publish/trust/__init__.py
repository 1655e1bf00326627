"""What a hub can check about a released image: its SBOM, its provenance, the vulnerability gate,
and the site key's signatures over them (docs/supply-chain.md)."""
