"""Organisations: the diaspora organisations the CRM works with."""
