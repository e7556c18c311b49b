"""Capacity-building and partnership CRM for diaspora engagement."""
