"""Prove images work: select their tests from the lineage, run them, remember what passed."""
