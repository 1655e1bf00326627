"""Real services the project starts on this host for trying releases and for tests."""
