"""Plain HTTP routes beside the Reflex app: health, document downloads, exports."""

import logging
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chub_ui import db
from chub_ui.db import get_engine
from chub_ui.services import auth, exports, library
from chub_ui.services.errors import (
    InvalidInput,
    NotAllowed,
    NotSignedIn,
    PlanRequired,
)
from chub_ui.services.records import RECORD_KINDS
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
            library.record_download(
                session=session, user=user, document_id=document["id"]
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


EXPORT_MEDIA_TYPES = {
    exports.FORMAT_CSV: "text/csv; charset=utf-8",
    exports.FORMAT_VCARD: "text/vcard; charset=utf-8",
}
EXPORTERS = {
    exports.FORMAT_CSV: exports.csv_export,
    exports.FORMAT_VCARD: exports.vcard_export,
}


def _export_chunks(
    user: auth.CurrentUser, kind: str, fmt: str, search: str, view: dict
) -> Iterator[str]:
    # The rows are read while the response streams, in a session of their own
    # that closes when the last chunk is sent or the client goes away.
    with db.open_session() as session:
        yield from EXPORTERS[fmt](
            session=session, user=user, kind=kind, search=search, **view
        )


def export_list(request: Request) -> Response:
    """Stream the user's leads or contacts as CSV or vCard, as the list shows them.

    The user comes from the session cookie, or from a short-lived signed link
    that a page minted for one kind, format and search. The plan is checked
    anew on every request, so a downgraded account gets 403 even with a fresh
    link.
    """
    kind = request.path_params["kind"]
    fmt = request.path_params["fmt"]
    if kind not in RECORD_KINDS or fmt not in EXPORT_MEDIA_TYPES:
        return JSONResponse({"error": "There is no such export."}, 404)

    query = request.query_params
    search = query.get("q", "")
    try:
        # The list's filters and sort, checked before anything streams.
        view = exports.view_from_query(query)
    except InvalidInput as error:
        return JSONResponse({"error": error.message}, 400)
    try:
        with db.open_session() as session:
            if "s" in query:
                user = exports.user_for_export_link(
                    session=session,
                    kind=kind,
                    fmt=fmt,
                    search=search,
                    **view,
                    user_id=query.get("u", ""),
                    expires=query.get("e", ""),
                    signature=query.get("s", ""),
                )
            else:
                token = request.cookies.get(SESSION_COOKIE, "")
                user = auth.user_for_token(session, token)
            exports.check_export(user=user, kind=kind, fmt=fmt)
    except NotSignedIn:
        return JSONResponse({"error": "Please sign in to continue."}, 401)
    except PlanRequired as error:
        return JSONResponse({"error": error.message}, 403)

    logger.info("%ss exported as %s by user %s", kind, fmt, user.id)
    name = exports.export_file_name(kind, fmt)
    return StreamingResponse(
        _export_chunks(user, kind, fmt, search, view),
        media_type=EXPORT_MEDIA_TYPES[fmt],
        headers={**DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(name)},
    )


api = Starlette(
    routes=[
        Route("/api/health", health),
        Route(
            "/api/documents/{document_id:int}/download",
            download_document,
            methods=["GET"],
        ),
        Route("/api/export/{kind}.{fmt}", export_list, methods=["GET"]),
    ]
)
