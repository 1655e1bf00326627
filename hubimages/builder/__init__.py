"""Images from folders: the engine, the Debian root, input hashes, one image, the scheduler."""
