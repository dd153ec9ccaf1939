"""Example campaign site on FastAPI, behind UGCGuard (same routes as the Starlette example).

Run it with ``python -m uvicorn examples.fastapi_site.app:app`` from the repository root.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from examples.common import POLICY, gate_status, home_page, receipt_page, store
from ugc_guard import UGCGuard

app = FastAPI(title="Campaign site (example)")
app.add_middleware(UGCGuard, policy=POLICY)


@app.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    # terms and age first: a visitor without standing is not shown a file field whose file the gate would drop
    return HTMLResponse(home_page(await gate_status(request.app, request.scope)), headers={"cache-control": "no-store"})


@app.post("/upload", status_code=201, response_model=None)
async def upload(
    request: Request,
    media: Annotated[UploadFile, File()],
    ugc_licence: Annotated[str, Form()],
    ugc_portrait_self: Annotated[str, Form()],
    ugc_portrait_others: Annotated[str, Form()],
) -> dict[str, Any] | HTMLResponse:
    # The grant fields were checked and recorded by UGCGuard before this handler runs.
    submission = request.state.ugc
    await anyio.to_thread.run_sync(store, submission, await media.read())
    if "text/html" in request.headers.get("accept", ""):  # a browser gets the receipt in words
        return HTMLResponse(receipt_page(submission), status_code=201)
    result: dict[str, Any] = submission.as_dict()
    return result


@app.put("/api/selfies/{entry}", status_code=201)
async def put_selfie(entry: str, request: Request) -> dict[str, Any]:
    submission = request.state.ugc
    await anyio.to_thread.run_sync(store, submission, await request.body())
    result: dict[str, Any] = submission.as_dict()
    return result
