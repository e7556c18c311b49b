"""Offline country geometry (world.json) for the organisations world map."""
