"""Who may see or change partner actors: the government side (their counterparts' records)."""

from __future__ import annotations

from crm.accounts.models import User


def can_view(user: User) -> bool:
    return user.is_staff


def can_edit(user: User) -> bool:
    return user.is_staff
