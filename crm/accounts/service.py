"""Rules and persistence for users, roles, login sessions, login throttling and API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import available_timezones

from sqlalchemy import bindparam, column, delete, exists, func, or_, select, table, update
from sqlalchemy.orm import Session, joinedload

from crm.accounts.models import ApiToken, LoginAttempt, User, UserRole, UserSession
from crm.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from crm.accounts.roles import Role
from crm.db.audit import record_event
from crm.db.base import utcnow
from crm.db.engine import serialise, writing
from crm.web.i18n import N_
from crm.web.pagination import Page

API_TOKEN_PREFIX = "crm_"
# Ids are 32-bit integer columns: a larger number names no row.
MAX_ID = 2_147_483_647


class AccountError(ValueError):
    """A user-facing refusal: the message says what is wrong (field → message, an N_ string whose
    %(placeholders)s `params` fill once it is translated)."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.field = field
        self.message = message
        self.params = params

    def text(self, translate: Callable[[str], str] = lambda message: message) -> str:
        """The message in the reader's language (the command line reads it untranslated)."""
        translated = translate(self.message)
        return translated % self.params if self.params else translated


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountError("password", N_("Password must be at least 10 characters long."))


def save(session: Session) -> None:
    """Write the changes made so far, so that a stale version is found now (409) rather than at commit."""
    session.flush()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id) if user_id <= MAX_ID else None


def set_language(session: Session, user: User, language: str) -> None:
    """The language an account reads the app in (bookkeeping: no version check, like the last sign-in)."""
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(language=language)
        .execution_options(synchronize_session=False)
    )


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    password: str,
    roles: Iterable[Role | str],
    full_name: str = "",
    language: str = "en",
    time_zone: str = "Europe/Paris",
    password_hash: str | None = None,
    organisation_id: int | None = None,
) -> User:
    """A new account; `organisation_id` is the organisation it represents (representatives only)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", N_("Enter a valid email address."))
    if get_user_by_email(session, email) is not None:
        raise AccountError("email", N_("A user with this email already exists."))
    role_set = _parse_roles(roles)
    if time_zone not in available_timezones():
        raise AccountError("time_zone", N_("Unknown time zone."))
    organisation_to_represent(session, role_set, organisation_id)
    if password_hash is None:
        validate_password(password)
        password_hash = hash_password(password)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=password_hash,
        language=language if language in ("en", "fr") else "en",
        time_zone=time_zone,
        organisation_id=organisation_id,
        role_rows=[UserRole(role=role.value) for role in sorted(role_set)],
    )
    session.add(user)
    session.flush()
    return user


def _parse_roles(roles: Iterable[Role | str]) -> set[Role]:
    parsed: set[Role] = set()
    for role in roles:
        try:
            parsed.add(Role(role))
        except ValueError:
            raise AccountError("roles", N_("Unknown role.")) from None
    if not parsed:
        raise AccountError("roles", N_("Choose at least one role."))
    return parsed


def set_roles(session: Session, user: User, roles: Iterable[Role | str]) -> None:
    wanted = _parse_roles(roles)
    current = user.roles
    for row in list(user.role_rows):
        if Role(row.role) not in wanted:
            user.role_rows.remove(row)
    for role in sorted(wanted - current):
        user.role_rows.append(UserRole(role=role.value))
    if wanted != current:
        record_event(session, "roles", "users", user.id, before=sorted(current), after=sorted(wanted))
    if current - wanted:
        # A login or a token must not keep what the account just lost.
        end_all_access(session, user)


def set_password(session: Session, user: User, password: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    # A new password ends every login and API token of this account, so a stolen cookie or token stops too.
    end_all_access(session, user)
    record_event(session, "password", "users", user.id)


def end_all_access(session: Session, user: User) -> None:
    """End every web session and revoke every API token of the account."""
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# Representatives ------------------------------------------------------------------------------------

# Organisations build on accounts, never the reverse: accounts reads the few columns it names by the table's
# name, as User.organisation_id refers to it.
_ORGANISATIONS = table("organisations", column("id"), column("name"), column("merged_into_id"))
_IS_REPRESENTATIVE = exists().where(
    UserRole.user_id == User.id, UserRole.role == Role.ORG_REPRESENTATIVE.value
)


@dataclass(frozen=True)
class OrganisationName:
    """An organisation as account pages and commands name it."""

    id: int
    name: str
    merged_into_id: int | None = None


def organisation_name(session: Session, organisation_id: int) -> OrganisationName | None:
    row = session.execute(
        select(_ORGANISATIONS.c.id, _ORGANISATIONS.c.name, _ORGANISATIONS.c.merged_into_id).where(
            _ORGANISATIONS.c.id == organisation_id
        )
    ).first()
    return None if row is None else OrganisationName(*row)


def organisation_to_represent(
    session: Session, roles: Iterable[Role | str], organisation_id: int | None
) -> OrganisationName | None:
    """The organisation a user with these roles may be linked to (None for none): it must exist, must not
    have been merged into another, and only a representative speaks for one."""
    if organisation_id is None:
        return None
    if Role.ORG_REPRESENTATIVE not in _parse_roles(roles):
        raise AccountError(
            "organisation",
            N_(
                "Only an organisation representative can represent an organisation: "
                "give the user that role, or leave the organisation empty."
            ),
        )
    organisation = organisation_name(session, organisation_id)
    if organisation is None:
        raise AccountError("organisation", N_("No organisation has the number %(id)s."), id=organisation_id)
    if organisation.merged_into_id is not None:
        survivor = organisation_name(session, organisation.merged_into_id)
        raise AccountError(
            "organisation",
            N_("“%(name)s” was merged into “%(survivor)s” (number %(survivor_id)s): choose that one."),
            name=organisation.name,
            survivor=survivor.name if survivor else "",
            survivor_id=organisation.merged_into_id,
        )
    return organisation


def set_organisation(session: Session, user: User, organisation_id: int | None) -> None:
    """Link the user to the organisation it represents, or to none; its roles must already be set. Losing an
    organisation ends the account's logins and API tokens, as losing a role does."""
    organisation_to_represent(session, user.roles, organisation_id)
    if user.organisation_id == organisation_id:
        return
    lost = user.organisation_id is not None
    user.organisation_id = organisation_id
    if lost:
        end_all_access(session, user)


def represented_organisation(session: Session, user: User) -> OrganisationName | None:
    """The organisation this user speaks for (User.represented_organisation_id), by its name."""
    organisation_id = user.represented_organisation_id
    return None if organisation_id is None else organisation_name(session, organisation_id)


def list_representatives(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.organisation_id == organisation_id, _IS_REPRESENTATIVE)
            .order_by(User.full_name, User.email)
        )
    )


@dataclass(frozen=True)
class NewRepresentative:
    user: User
    new_account: bool


def add_representative(
    session: Session,
    organisation_id: int,
    email: str,
    full_name: str = "",
    language: str = "en",
    time_zone: str = "Europe/Paris",
) -> NewRepresentative:
    """Make the account with this email a representative of the organisation (it gains the role if it lacks
    it), or create the account when there is none: its password is random and told to nobody, so it cannot
    sign in until an administrator sets one. An account represents one organisation at most."""
    organisation_to_represent(session, [Role.ORG_REPRESENTATIVE], organisation_id)
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", N_("Enter a valid email address."))
    user = get_user_by_email(session, email)
    if user is None:
        if not full_name.strip():
            raise AccountError(
                "full_name", N_("No account has this email yet: enter the person's name to create one.")
            )
        user = create_user(
            session,
            email,
            "",
            [Role.ORG_REPRESENTATIVE],
            full_name=full_name,
            language=language,
            time_zone=time_zone,
            password_hash=hash_password(secrets.token_urlsafe(32)),
            organisation_id=organisation_id,
        )
        return NewRepresentative(user, new_account=True)
    if user.has_role(Role.ORG_REPRESENTATIVE) and user.organisation_id is not None:
        if user.organisation_id == organisation_id:
            raise AccountError(
                "email", N_("%(email)s already represents this organisation."), email=user.email
            )
        other = organisation_name(session, user.organisation_id)
        raise AccountError(
            "email",
            N_(
                "%(email)s already represents “%(name)s”, and an account represents one organisation: "
                "remove them there first."
            ),
            email=user.email,
            name=other.name if other else "",
        )
    if not user.has_role(Role.ORG_REPRESENTATIVE):
        set_roles(session, user, [*user.roles, Role.ORG_REPRESENTATIVE])
    user.organisation_id = organisation_id
    session.flush()
    return NewRepresentative(user, new_account=False)


def remove_representative(session: Session, organisation_id: int, user_id: int) -> User | None:
    """Unlink a representative from the organisation and take back the representative role; its logins and
    API tokens end, since what they reached is no longer its own. None if it does not represent it."""
    user = session.get(User, user_id)
    if user is None or user.organisation_id != organisation_id:
        return None
    before = user.roles
    for row in list(user.role_rows):
        if row.role == Role.ORG_REPRESENTATIVE:
            user.role_rows.remove(row)
    if before != user.roles:
        record_event(session, "roles", "users", user.id, before=sorted(before), after=sorted(user.roles))
    user.organisation_id = None
    end_all_access(session, user)
    return user


# Signing in -----------------------------------------------------------------------------------------


class SignInResult(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    result: SignInResult
    user: User | None = None
    token: str | None = None


def sign_in(session: Session, ip: str, email: str, password: str, *, limit: int, days: int) -> SignIn:
    """Check a password and start a login, throttled per address and account.

    Three short transactions, so that nothing slow holds the database and no failure goes uncounted:
    1. the attempt is counted before the password is checked, and committed: however many arrive at once,
       and whatever happens to their requests, at most `limit` a minute get as far as the password check;
    2. the password is checked (argon2, tens of milliseconds) with no transaction open;
    3. on success the attempt is taken back and the login written."""
    email = normalise_email(email)
    with writing(session):
        serialise(session, f"sign-in {ip} {email}")
        if _recent_attempts(session, ip, email) >= limit:
            return SignIn(SignInResult.THROTTLED)
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - timedelta(hours=1)))
        attempt = LoginAttempt(ip=ip, email=email[:254])
        session.add(attempt)
        user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return SignIn(SignInResult.WRONG)
    if not verify_password(user.password_hash, password):
        return SignIn(SignInResult.WRONG)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    with writing(session):
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        token = start_session(session, user, ip, days, new_hash=new_hash)
    return SignIn(SignInResult.SIGNED_IN, user=user, token=token)


def _recent_attempts(session: Session, ip: str, email: str) -> int:
    since = utcnow() - timedelta(minutes=1)
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.ip == ip, LoginAttempt.email == email, LoginAttempt.attempted_at > since)
        )
        or 0
    )


def check_credentials(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for the command line and tests)."""
    user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


# Sessions -------------------------------------------------------------------------------------------


def start_session(session: Session, user: User, ip: str, days: int, new_hash: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_digest(token), user_id=user.id, expires_at=utcnow() + timedelta(days=days), ip=ip
        )
    )
    # Bookkeeping, not an edit: written without the version check, so two logins at once or an admin
    # editing the account meanwhile never conflict with it.
    values: dict[str, object] = {"last_login_at": utcnow()}
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(
        update(User).where(User.id == user.id).values(**values).execution_options(synchronize_session=False)
    )
    record_event(session, "login", "users", user.id, ip=ip)
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


# Built once: it runs before every page, and building the statement cost as much as running it.
_USER_FOR_SESSION = (
    select(User, UserSession.expires_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(joinedload(User.role_rows))
)


def user_for_session(session: Session, token: str) -> User | None:
    """The user a login cookie belongs to, with their roles, in one statement; None if expired or unknown."""
    row = session.execute(_USER_FOR_SESSION, {"token_hash": _digest(token)}).unique().first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at <= utcnow() or not user.is_active:
        return None
    return user


# API tokens -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


def create_api_token(session: Session, user: User, name: str) -> NewToken:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name", N_("Give the token a name of at most 100 characters."))
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


_USER_FOR_API_TOKEN = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(User.role_rows))
)
# Writing on every call would make every API read a writer; once a minute is enough to show use.
TOKEN_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenUse:
    user: User
    token_id: int
    stale: bool
    """The token's last use is older than TOKEN_USE_PRECISION: record this one (`record_token_use`)."""


def user_for_api_token(session: Session, secret: str) -> TokenUse | None:
    """The active user an API token belongs to, read without writing anything."""
    row = session.execute(_USER_FOR_API_TOKEN, {"token_hash": _digest(secret)}).unique().first()
    if row is None or not row[0].is_active:
        return None
    user, token_id, last_used_at = row
    stale = last_used_at is None or utcnow() - last_used_at > TOKEN_USE_PRECISION
    return TokenUse(user=user, token_id=token_id, stale=stale)


def record_token_use(session: Session, token_id: int) -> None:
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_PRECISION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


# Administration -------------------------------------------------------------------------------------


def list_users(session: Session, page: int, per_page: int, query: str = "") -> Page[User]:
    stmt = select(User)
    if query:
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.email).like(pattern) | func.lower(User.full_name).like(pattern))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(User.email).offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items=items, number=page, per_page=per_page, total=total)
