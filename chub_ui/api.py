"""Plain HTTP routes beside the Reflex app: health check."""

import logging

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chub_ui.db import get_engine

logger = logging.getLogger(__name__)


async def health(request: Request) -> JSONResponse:
    """Answer whether the app and its database respond."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "error", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok"})


api = Starlette(routes=[Route("/api/health", health)])
