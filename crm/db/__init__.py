"""Persistence foundations shared by every domain: base model, engine, audit log."""
