"""create_app(): wires plugins, middleware, templates and every domain's routes. Wiring only."""

from __future__ import annotations

import itertools
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin, SQLAlchemySyncConfig, SyncSessionConfig
from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crm.accounts.controllers import AuthController, HomeController, TokenController, UserAdminController
from crm.accounts.permissions import make_authenticator
from crm.accounts.roles import ROLE_LABELS, Role
from crm.assessments import portfolio_pages, questionnaire_pages, results_pages
from crm.assessments.api import API_HANDLERS as ASSESSMENT_API_HANDLERS
from crm.db.audit import set_actor
from crm.db.engine import CrmSession, make_engine, pool_options, will_write
from crm.organisations.api import API_HANDLERS
from crm.organisations.controllers import ORGANISATION_HANDLERS
from crm.organisations.imports.page import IMPORT_HANDLERS
from crm.organisations.representatives import RepresentativesController
from crm.partners.api import API_HANDLERS as PARTNER_API_HANDLERS
from crm.partners.controllers import PARTNER_HANDLERS
from crm.settings import PROJECT_ROOT, Settings, get_settings
from crm.training import calendar_pages, feed_pages, programme_pages, series_pages
from crm.web import errors, flash
from crm.web.auth import AuthMiddleware
from crm.web.deps import RawDb
from crm.web.health import healthz
from crm.web.security import AllowedHostsMiddleware, SecurityHeadersMiddleware
from crm.web.templating import create_environment
from crm.web.transactions import make_transaction_hook

STATIC_DIR = PROJECT_ROOT / "crm" / "web" / "static"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_APP_NUMBERS = itertools.count(1)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Litestar:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, **pool_options(settings.database_url))
    # Keys of our own per app: advanced-alchemy makes clashing default keys unique by a recursive search over
    # every key given out in the process, which overflows the stack after ~940 apps (the test suite makes more).
    number = next(_APP_NUMBERS)
    db_config = SQLAlchemySyncConfig(
        engine_instance=engine,
        session_config=SyncSessionConfig(expire_on_commit=False, class_=CrmSession),
        session_scope_key=f"_crm_db_session_{number}",
        engine_app_state_key=f"crm_db_engine_{number}",
        session_maker_app_state_key=f"crm_session_maker_{number}",
    )

    def session_for_scope(scope: Any) -> Session:
        return db_config.provide_session(scope["litestar_app"].state, scope)

    db_config.before_send_handler = make_transaction_hook(session_for_scope)

    def provide_db(db_session: RawDb, request: Request[Any, Any, Any]) -> Session:
        set_actor(db_session, request.user.id if request.user is not None else None)
        # A request that may change data takes SQLite's write lock when its transaction begins, so it waits
        # its turn instead of failing when it first writes (crm.db.engine.CrmSession).
        will_write(db_session, request.method not in SAFE_METHODS)
        return db_session

    def provide_settings() -> Settings:
        return settings

    env = create_environment(auto_reload=settings.debug)
    env.globals.update(Role=Role, ROLE_LABELS=ROLE_LABELS, get_flashes=flash.get_flashes, settings=settings)

    app = Litestar(
        route_handlers=[
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
            healthz,
            AuthController,
            HomeController,
            UserAdminController,
            TokenController,
            *ORGANISATION_HANDLERS,
            *PARTNER_HANDLERS,
            *PARTNER_API_HANDLERS,
            RepresentativesController,
            *IMPORT_HANDLERS,
            *API_HANDLERS,
            *questionnaire_pages.HANDLERS,
            *results_pages.HANDLERS,
            *portfolio_pages.HANDLERS,
            *ASSESSMENT_API_HANDLERS,
            *feed_pages.HANDLERS,
            *series_pages.HANDLERS,
            *calendar_pages.HANDLERS,
            *programme_pages.HANDLERS,
        ],
        plugins=[SQLAlchemyPlugin(config=db_config), HTMXPlugin()],
        request_class=errors.SafeJsonRequest,
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False, use_cache=True),
        },
        template_config=TemplateConfig(instance=JinjaTemplateEngine(engine_instance=env)),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.https,
            cookie_samesite="lax",
            exclude=["/api/", "/healthz"],
        ),
        exception_handlers={
            HTTPException: errors.http_exception_handler,
            StaleDataError: errors.stale_data_handler,
            DataError: errors.out_of_range_handler,
            OperationalError: errors.database_error_handler,
            SQLAlchemyTimeoutError: errors.database_error_handler,
            OverflowError: errors.out_of_range_handler,
            Exception: errors.internal_error_handler,
        },
        # The schema documents the JSON API only: its controllers opt in, pages and forms stay out of it.
        include_in_schema=False,
        openapi_config=OpenAPIConfig(
            title="Diaspora partnership CRM API",
            version="1",
            path="/schema",
            render_plugins=[
                RedocRenderPlugin(
                    js_url="/static/vendor/redoc-2.5.2.standalone.js", google_fonts=False, favicon=""
                )
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token")
                }
            ),
        ),
        debug=settings.debug,
    )
    # Litestar runs `middleware=` only on matched routes; these must also cover 404s and 405s (headers,
    # host check, the signed-in layout on error pages), so they wrap the whole request handler.
    app.asgi_handler = AllowedHostsMiddleware(
        SecurityHeadersMiddleware(
            flash.FlashMiddleware(
                AuthMiddleware(
                    app.asgi_handler,
                    authenticate=make_authenticator(session_for_scope),
                    default_language=settings.default_language,
                    default_time_zone=settings.time_zone,
                )
            ),
            https=settings.https,
        ),
        allowed_hosts=settings.allowed_hosts,
    )
    return app
