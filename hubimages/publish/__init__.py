"""Publish tested images: registry client, pushes, records, inventories, history, profiles."""
