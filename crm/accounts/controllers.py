"""HTTP for signing in and out, choosing a language, administering users and personal API tokens."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from crm.accounts.permissions import SESSION_COOKIE, found, requires_login, requires_role
from crm.accounts.roles import ROLE_LABELS, Role
from crm.accounts.schemas import LoginForm, TokenForm, UserForm
from crm.web.deps import AppSettings, Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import LANGUAGES
from crm.web.i18n import gettext as _
from crm.web.pagination import clamp_page

LANGUAGE_COOKIE = "crm_lang"


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a phishing link borrow our login page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _secure(request: Request[Any, Any, Any], settings: AppSettings) -> bool:
    return settings.https or request.url.scheme == "https"


class AuthController(Controller):
    @get("/login", name="login")
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Response[Any]:
        if request.user is not None:
            return Redirect(safe_next(next))
        return Template("accounts/login.html", context={"form": {"next": next}, "errors": {}})

    @post("/login", sync_to_thread=True)
    def login(
        self, request: Request[Any, Any, Any], db: Db, settings: AppSettings, data: FormBody
    ) -> Response[Any]:
        email = str(data.get("email") or "")
        context = {"form": {"email": email, "next": data.get("next")}, "errors": {}}
        try:
            form = parse(LoginForm, data)
        except FormErrors as exc:
            context["errors"] = exc.errors
            return Template("accounts/login.html", context=context)
        outcome = service.sign_in(
            db,
            client_ip(request),
            form.email,
            form.password,
            limit=settings.login_attempts_per_minute,
            days=settings.session_days,
        )
        if outcome.result is service.SignInResult.THROTTLED:
            context["errors"] = {
                "__all__": _("Too many failed sign-in attempts. Wait a minute and try again.")
            }
            return Template("accounts/login.html", context=context, status_code=HTTP_429_TOO_MANY_REQUESTS)
        if outcome.user is None or outcome.token is None:
            context["errors"] = {"__all__": _("Wrong email or password.")}
            return Template("accounts/login.html", context=context)
        user, token = outcome.user, outcome.token
        response: Response[Any] = Redirect(safe_next(form.next))
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=_secure(request, settings),
            max_age=settings.session_days * 86400,
            path="/",
        )
        response.set_cookie(LANGUAGE_COOKIE, user.language, samesite="lax", path="/", max_age=365 * 86400)
        return response

    @post("/logout", sync_to_thread=True)
    def logout(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            service.end_session(db, token)
        response: Response[Any] = Redirect("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/language/{code:str}", sync_to_thread=True)
    def choose_language(
        self, request: Request[Any, Any, Any], db: Db, code: FromPath[str], next: FromQuery[str | None] = None
    ) -> Response[Any]:
        if code not in LANGUAGES:
            raise HTTPException(status_code=400, detail=_("Unknown language."))
        user: User | None = request.user
        if user is not None:
            service.set_language(db, user, code)
        response: Response[Any] = Redirect(safe_next(next))
        response.set_cookie(LANGUAGE_COOKIE, code, samesite="lax", path="/", max_age=365 * 86400)
        return response


def _user_form_context(
    db: Session, user: User | None, form: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "user_obj": user,
        "form": form,
        "errors": errors,
        "role_choices": [(role.value, _(ROLE_LABELS[role])) for role in Role],
        "time_zones": [(tz, tz) for tz in sorted(available_timezones())],
        "chosen_organisation": _chosen_organisation(db, form.get("organisation")),
    }


def _chosen_organisation(db: Session, value: object) -> service.OrganisationName | None:
    """The organisation the form names (shown by its name in the picker), whatever the user typed."""
    try:
        organisation_id = int(str(value))
    except ValueError:
        return None
    return service.organisation_name(db, organisation_id) if 0 < organisation_id < 2**31 else None


def _account_error(exc: service.AccountError) -> dict[str, str]:
    return {exc.field: exc.text(_)}


def _form_from_user(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "roles": [r.value for r in user.roles],
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": user.is_active,
        "organisation": user.organisation_id,
        "version": user.version,
    }


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [requires_role(Role.ADMIN)]

    @get("/", name="users", sync_to_thread=True)
    def list_users(self, db: Db, q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
        number, per_page = clamp_page(page, 25)
        users = service.list_users(db, number, per_page, q)
        return Template("accounts/users.html", context={"page": users, "q": q, "role_labels": ROLE_LABELS})

    @get("/new", sync_to_thread=True)
    def new_user(self, db: Db, settings: AppSettings) -> Template:
        form = {
            "roles": [],
            "language": settings.default_language,
            "time_zone": settings.time_zone,
            "is_active": True,
        }
        return Template("accounts/user_form.html", context=_user_form_context(db, None, form, {}))

    @post("/new", sync_to_thread=True)
    def create_user(self, request: Request[Any, Any, Any], db: Db, data: FormBody) -> Response[Any]:
        try:
            form = parse(UserForm, data, multi=("roles",))
            if not form.password:
                raise FormErrors({"password": _("Set a first password.")})
            user = service.create_user(
                db,
                form.email,
                form.password,
                form.roles,
                full_name=form.full_name,
                language=form.language,
                time_zone=form.time_zone,
                organisation_id=form.organisation,
            )
            user.is_active = form.is_active
        except FormErrors as exc:
            return Template("accounts/user_form.html", context=_user_form_context(db, None, data, exc.errors))
        except service.AccountError as exc:
            return Template(
                "accounts/user_form.html", context=_user_form_context(db, None, data, _account_error(exc))
            )
        flash(request, _("User %(email)s created.") % {"email": user.email})
        return Redirect("/admin/users")

    @get("/{user_id:int}", sync_to_thread=True)
    def edit_user(self, db: Db, user_id: FromPath[int]) -> Template:
        user = found(service.get_user(db, user_id))
        return Template(
            "accounts/user_form.html", context=_user_form_context(db, user, _form_from_user(user), {})
        )

    @post("/{user_id:int}", sync_to_thread=True)
    def update_user(
        self, request: Request[Any, Any, Any], db: Db, user_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        user = found(service.get_user(db, user_id))
        try:
            form = parse(UserForm, data, multi=("roles",))
            if form.version != user.version:
                raise FormErrors(
                    {
                        "__all__": _(
                            "Someone else changed this user after you opened it. "
                            "Reload the page to see their changes."
                        )
                    }
                )
            if user.id == request.user.id and (Role.ADMIN not in form.roles or not form.is_active):
                raise FormErrors({"roles": _("You cannot remove your own administrator access.")})
            if form.time_zone not in available_timezones():
                raise FormErrors({"time_zone": _("Unknown time zone.")})
            if form.password:
                service.validate_password(form.password)
            # Checked before anything changes: a form shown again with its errors must have changed nothing.
            service.organisation_to_represent(db, form.roles, form.organisation)
            user.full_name = form.full_name
            user.language = form.language
            user.time_zone = form.time_zone
            user.is_active = form.is_active
            service.set_roles(db, user, form.roles)
            service.set_organisation(db, user, form.organisation)
            if form.password:
                service.set_password(db, user, form.password)
            service.save(db)
        except FormErrors as exc:
            return Template("accounts/user_form.html", context=_user_form_context(db, user, data, exc.errors))
        except service.AccountError as exc:
            return Template(
                "accounts/user_form.html", context=_user_form_context(db, user, data, _account_error(exc))
            )
        flash(request, _("User %(email)s saved.") % {"email": user.email})
        return Redirect("/admin/users")


class TokenController(Controller):
    """Every signed-in user may hold API tokens: the API gives each the same rights as the pages."""

    path = "/account/tokens"
    guards = [requires_login]

    @get("/", name="tokens", sync_to_thread=True)
    def list_tokens(self, request: Request[Any, Any, Any], db: Db) -> Template:
        tokens = service.list_api_tokens(db, request.user)
        return Template("accounts/tokens.html", context={"tokens": tokens, "new_secret": None, "errors": {}})

    @post("/", sync_to_thread=True)
    def create_token(self, request: Request[Any, Any, Any], db: Db, data: FormBody) -> Template:
        errors: dict[str, str] = {}
        new_secret = None
        try:
            form = parse(TokenForm, data)
            new_secret = service.create_api_token(db, request.user, form.name).secret
        except FormErrors as exc:
            errors = exc.errors
        except service.AccountError as exc:
            errors = _account_error(exc)
        tokens = service.list_api_tokens(db, request.user)
        return Template(
            "accounts/tokens.html", context={"tokens": tokens, "new_secret": new_secret, "errors": errors}
        )

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke_token(self, request: Request[Any, Any, Any], db: Db, token_id: FromPath[int]) -> Response[Any]:
        found(True if service.revoke_api_token(db, request.user, token_id) else None)
        flash(request, _("Token revoked."))
        return Redirect("/account/tokens")


class HomeController(Controller):
    guards = [requires_login]

    @get("/", name="home", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], db: Db) -> Template:
        user: User = request.user
        return Template(
            "home.html",
            context={
                "role_labels": ROLE_LABELS,
                "is_representative": user.has_role(Role.ORG_REPRESENTATIVE),
                "own_organisation": service.represented_organisation(db, user),
            },
        )
