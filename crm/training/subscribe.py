"""Subscribing to a calendar feed: who may hold which feed, and what the subscribe panel shows (the feed's
https and webcal:// addresses, an "Add to Outlook" link, and one line per calendar app on how to subscribe and
how often it refreshes). Calendar apps subscribe rather than import, so a changed session reaches them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Organisation
from crm.training import permissions, schedule, service
from crm.training.models import FeedScope, FeedToken
from crm.web.i18n import gettext as _

OUTLOOK_ADD_FROM_WEB = "https://outlook.live.com/calendar/0/addfromweb"


def scope_of(text: str) -> FeedScope | None:
    try:
        return FeedScope(text)
    except ValueError:
        return None


def stored_scope_id(scope: FeedScope, scope_id: int) -> int | None:
    """A "my sessions" feed is its owner's alone and stores no id; the address names the owner."""
    return None if scope == FeedScope.MINE else scope_id


def may_subscribe(session: Session, user: User, scope: FeedScope, scope_id: int) -> bool:
    """A programme's feed: whoever may see the programme. A trainer's: the trainer, or staff. An
    organisation's: staff and its representatives. "My sessions": one's own. Never an account without a role
    (its feeds would answer 404 anyway)."""
    if not permissions.holds_feeds(user):
        return False
    if scope == FeedScope.PROGRAMME:
        return schedule.programme_seen(session, user, scope_id) is not None
    if scope == FeedScope.TRAINER:
        return scope_id == user.id or (user.is_staff and session.get(User, scope_id) is not None)
    if scope == FeedScope.ORGANISATION:
        if user.represented_organisation_id == scope_id:
            return True
        return user.is_staff and session.get(Organisation, scope_id) is not None
    return scope_id == user.id


def renew(session: Session, user: User, scope: FeedScope, scope_id: int) -> FeedToken:
    """A new address for this feed; the one before stops working."""
    return service.new_feed_token(session, user, scope, stored_scope_id(scope, scope_id))


def revoke(session: Session, user: User, scope: FeedScope, scope_id: int) -> None:
    service.revoke_feed_tokens(session, user, scope, stored_scope_id(scope, scope_id))


def public_base(request_base_url: str, https: bool) -> str:
    """The site's address as calendar apps reach it: https behind a proxy that ends TLS."""
    base = request_base_url.rstrip("/")
    return "https://" + base.removeprefix("http://") if https and base.startswith("http://") else base


@dataclass(frozen=True)
class ClientHelp:
    name: str
    how: str


def client_help() -> list[ClientHelp]:
    """How each calendar app subscribes to an address, and how often it looks again."""
    return [
        ClientHelp(
            _("Google Calendar"),
            _(
                "On a computer, next to “Other calendars” choose + then “From URL”, and paste the address. "
                "Google refreshes it every 8 to 24 hours; it cannot be refreshed by hand."
            ),
        ),
        ClientHelp(
            _("Outlook"),
            _(
                "Use “Add to Outlook” above, or in Outlook choose “Add calendar”, then “Subscribe from web”, "
                "and paste the address. Outlook refreshes it every few hours."
            ),
        ),
        ClientHelp(
            _("Apple Calendar"),
            _(
                "Choose File → New Calendar Subscription and paste the address, or open the webcal link on an "
                "iPhone. Set “Auto-refresh” to every hour."
            ),
        ),
        ClientHelp(
            _("Thunderbird"),
            _(
                "Choose New Calendar → On the network, and paste the address. Thunderbird reads it again every "
                "30 minutes by default."
            ),
        ),
    ]


def subscribe_context(
    session: Session,
    request_base_url: str,
    settings_secret_key: str,
    user: User,
    scope: FeedScope | str,
    scope_id: int,
) -> dict[str, Any]:
    """What the subscribe panel needs for this feed of this person. `scope_id` is the id in the address (the
    person's own id for "mine" and for their trainer feed)."""
    scope = FeedScope(scope)
    stored = stored_scope_id(scope, scope_id)
    token = service.current_feed_token(session, user, scope, stored)
    name = service.feed_name(session, user, FeedToken(owner_id=user.id, scope=scope.value, scope_id=stored))
    context: dict[str, Any] = {
        "scope": scope.value,
        "scope_id": scope_id,
        "action": f"/training/feeds/{scope.value}/{scope_id}",
        "name": name,
        "has_address": token is not None,
        "clients": client_help(),
        "https_url": None,
        "webcal_url": None,
        "outlook_url": None,
    }
    if token is None:
        return context
    secret = service.feed_secret(settings_secret_key, token)
    https_url = f"{request_base_url.rstrip('/')}/calendars/{secret}/sessions.ics"
    context.update(
        https_url=https_url,
        webcal_url="webcal://" + https_url.split("://", 1)[1],
        outlook_url=OUTLOOK_ADD_FROM_WEB + "?" + urlencode({"url": https_url, "name": name}, quote_via=quote),
    )
    return context
