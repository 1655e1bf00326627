"""Python dependencies: locks, the package index, wheels built on the host, the wheelhouse."""
