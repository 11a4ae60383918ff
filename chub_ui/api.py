"""Plain HTTP routes beside the Reflex app: health check and document downloads."""

import logging
import unicodedata
from urllib.parse import quote

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from chub_ui import db
from chub_ui.db import get_engine
from chub_ui.services import auth, library
from chub_ui.services.errors import NotAllowed, NotSignedIn
from chub_ui.settings import SESSION_COOKIE

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


# Every download is a file to save, never a page: the browser may not guess
# another type, run anything in it, or keep a copy in a shared cache.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


def content_disposition(name: str) -> str:
    """An attachment header carrying a file name in UTF-8 and an ASCII fallback.

    Args:
        name: the document's name, already free of control characters.

    Returns:
        The Content-Disposition value, with ``filename`` for old clients and
        ``filename*`` (RFC 6266) for the exact name.
    """
    # Accents are dropped ("é" becomes "e"); any other letter becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    fallback = "".join(
        char if " " <= char <= "~" and char not in '"\\%;' else "_"
        for char in decomposed
        if not unicodedata.combining(char)
    ).strip()
    if not fallback.strip("._ "):
        fallback = "download"
    return (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )


def download_document(request: Request) -> Response:
    """Send a document to a signed-in user who owns it or was referred it.

    The user comes from the session cookie, or from a short-lived signed link
    that a page minted after checking access.

    Starlette runs this plain function in a worker thread, off the event loop.
    Access is checked anew on every request, so a withdrawn referral stops
    the next download. A missing, foreign or withdrawn document answers 404,
    the same for each, so ids reveal nothing.
    """
    token = request.cookies.get(SESSION_COOKIE, "")
    document_id = request.path_params["document_id"]
    query = request.query_params
    try:
        with db.open_session() as session:
            if "s" in query:
                user = library.user_for_download_link(
                    session=session,
                    document_id=document_id,
                    user_id=query.get("u", ""),
                    expires=query.get("e", ""),
                    signature=query.get("s", ""),
                )
            else:
                user = auth.user_for_token(session, token)
            path, document = library.document_for_download(
                session=session, user=user, document_id=document_id
            )
    except NotSignedIn:
        return JSONResponse({"error": "Please sign in to continue."}, 401)
    except NotAllowed:
        return JSONResponse({"error": "This document does not exist."}, 404)

    logger.info("document %s downloaded by user %s", document["id"], user.id)
    return FileResponse(
        path,
        media_type=document["content_type"],
        headers={
            **DOWNLOAD_HEADERS,
            "Content-Disposition": content_disposition(document["name"]),
        },
    )


api = Starlette(
    routes=[
        Route("/api/health", health),
        Route(
            "/api/documents/{document_id:int}/download",
            download_document,
            methods=["GET"],
        ),
    ]
)
