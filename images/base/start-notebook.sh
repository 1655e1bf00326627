#!/bin/sh
# Kept for spawner configurations written for older docker-stacks images.
exec start-notebook.py "$@"
