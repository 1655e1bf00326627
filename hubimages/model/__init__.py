"""The matrix: what images exist, their settings and their lineage. No engine, no network."""
