"""Accounts: users, roles, sessions, API tokens and the permission checks every domain calls."""
