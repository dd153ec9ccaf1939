"""Example campaign site on Starlette: an upload form and an upload endpoint behind UGCGuard.

Run it with ``scripts/run-example.sh`` (http://127.0.0.1:8000). The policy file defaults to
``policies/onscreen.yaml``; set ``UGC_GUARD_POLICY`` to use another.
"""

from __future__ import annotations

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from examples.common import POLICY, gate_status, home_page, page, receipt_page, store
from ugc_guard import UGCGuard


async def home(request: Request) -> Response:
    # terms and age first: a visitor without standing is not shown a file field whose file the gate would drop
    return HTMLResponse(home_page(await gate_status(request.app, request.scope)), headers={"cache-control": "no-store"})


async def upload(request: Request) -> Response:
    # UGCGuard has screened, recorded and replayed the body; request.state.ugc is the submission.
    submission = request.state.ugc
    form = await request.form()
    media = form["media"]
    data = await media.read()  # type: ignore[union-attr]
    await anyio.to_thread.run_sync(store, submission, data)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(receipt_page(submission), status_code=201)
    return JSONResponse(submission.as_dict(), status_code=201)


async def put_selfie(request: Request) -> Response:
    submission = request.state.ugc
    data = await request.body()
    await anyio.to_thread.run_sync(store, submission, data)
    return JSONResponse(submission.as_dict(), status_code=201)


async def gallery(request: Request) -> Response:
    return HTMLResponse(page("Gallery", "<h1>Gallery</h1><p>Entries appear here after moderation.</p>"))


app = Starlette(
    routes=[
        Route("/", home),
        Route("/upload", upload, methods=["POST"]),
        Route("/api/selfies/{entry}", put_selfie, methods=["PUT"]),
        Route("/gallery/", gallery),
    ],
    middleware=[Middleware(UGCGuard, policy=POLICY)],
)
