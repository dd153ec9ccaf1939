"""The screening stage: receive, screen, record, then replay the screened body to the app.

Nothing reaches the app before the whole body has arrived within its limits, every file has passed
screening, the grants are in order and the submission is recorded. Temporary files live until the
response is over (the app reads the replay from them) and are removed whatever happens.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import anyio
from starlette.types import ASGIApp

from ..context import RequestContext
from ..observe import screening_done
from ..policy import Policy
from ..policy.types import duration_seconds
from ..policy.uploads import UploadRoute
from ..problems import Problem, ledger_unavailable
from .answer import confirming
from .clamd import scan
from .embed import embed_rights
from .grants import FIELDS, HEADERS, check_grants
from .intake import ClientGone, Intake, raw_file_facts, receive_body
from .limits import check_declared_length
from .metrics import metrics
from .models import NotStoredMarker, Recorder, ScreenedFile, ScreenedUpload, Submission
from .multipart import Part
from .names import sanitise_filename
from .replay import Segment, body_length, file_segment, multipart_segments, replay_receive, set_body_headers, spool_segment
from .screen import screen_file
from .spool import BodySpool
from .tempfiles import TempFiles, storage_error, sweep_orphans

__all__ = ["ScreeningStage", "unrecorded"]

logger = logging.getLogger("ugc_guard.screening")


async def unrecorded(ctx: RequestContext, screened: ScreenedUpload) -> Submission:
    """Placeholder recorder until the ledger is wired: a submission with a fresh id and no receipt."""
    first = screened.files[0]
    return Submission(str(uuid.uuid4()), first.sha256, first.type, first.size, screened.grants, None, screened.files)


async def _nothing(ctx: RequestContext, submission: Submission, status: int | None) -> None:
    return None


async def _no_ledger(ctx: RequestContext, submission: Submission, status: int) -> bool:
    return True


Confirmer = Callable[[RequestContext, Submission, int], Awaitable[bool]]
"""Records that the app answered ``status`` (2xx) for the submission; returns False when the ledger could not."""


class ScreeningStage:
    """Stage for upload routes. ``record``, ``confirm`` (the app answered 2xx: before the client sees it) and
    ``mark_not_stored`` (any other answer, or none) connect it to the ledger."""

    def __init__(self, policy: Policy, *, record: Recorder = unrecorded, mark_not_stored: NotStoredMarker = _nothing,
                 confirm: Confirmer = _no_ledger) -> None:
        self.policy = policy
        self.uploads = policy.uploads
        self.record = record
        self.mark_not_stored = mark_not_stored
        self.confirm = confirm
        sweep_orphans(self.uploads.temp_dir)  # files a killed worker could not remove (once, at start)

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        route = ctx.upload_route
        if route is None:
            return None
        temp = TempFiles(self.uploads.temp_dir)
        handed_over = False
        started = time.perf_counter()
        try:
            await self._screen(ctx, route, temp)
            screening_done(ctx.scope, started)
            handed_over = True
            return None
        except Problem as refusal:
            metrics.refusals[refusal.code] += 1
            return refusal
        except ClientGone:
            metrics.disconnected += 1
            return Problem("malformed-upload", "the client disconnected before the upload was complete")
        except (OSError, BaseExceptionGroup) as error:
            cause = storage_error(error)
            if cause is None:
                raise
            logger.error("ugc_guard: cannot spool an upload in %s: %s", self.uploads.temp_dir or "the temporary folder", cause)
            metrics.refusals["storage-unavailable"] += 1
            return Problem("storage-unavailable", f"the upload could not be stored for screening ({cause.strerror}); try again later")
        finally:
            if not handed_over:
                await anyio.to_thread.run_sync(temp.remove)

    async def _screen(self, ctx: RequestContext, route: UploadRoute, temp: TempFiles) -> None:
        raw = route.body == "raw"
        check_declared_length(ctx.headers.get("content-length"), route.limits)
        if raw:  # the grants are in headers: refuse before reading a byte
            grants = check_grants({key: ctx.headers.getlist(name) for key, name in HEADERS.items()}, self.policy.portrait, HEADERS)
        spool = BodySpool(temp, self.uploads.spool_memory_bytes)
        intake = await receive_body(
            ctx.receive, spool, route.limits, raw=raw, multipart_type=ctx.headers.get("content-type"), file_field=route.file_field
        )
        if not raw:
            answers: dict[str, list[str]] = {key: [] for key in FIELDS}
            for part in intake.parts:
                for key, name in FIELDS.items():
                    if not part.is_file and part.name == name:
                        answers[key].append(part.value.decode("utf-8", "replace"))
            grants = check_grants(answers, self.policy.portrait, FIELDS)
        files = await self._screen_files(ctx, route, intake, temp)
        replay = self.uploads.replay if any(item.canonical_path for item in files) else "original"
        fields = {
            part.name: part.value.decode("utf-8", "replace")
            for part in intake.parts
            if not part.is_file and part.name not in FIELDS.values()
        }
        screened = ScreenedUpload(route.path, route.body, tuple(files), grants, fields, spool.size, replay)
        submission = await self._record(ctx, screened)
        screened = await embed_rights(self.policy, screened, submission, temp)  # needs the receipt: after record
        ctx.scope.setdefault("state", {})["ugc"] = submission
        self._replay(ctx, intake, screened, raw)
        metrics.accepted += 1

        confirmed: list[bool] = []

        async def confirm(status: int) -> bool:  # before the app's 2xx reaches the client
            confirmed.append(await self.confirm(ctx, submission, status))
            return confirmed[-1]

        async def after(status: int | None) -> None:
            try:
                if not confirmed and (status is None or not 200 <= status < 300):
                    await self.mark_not_stored(ctx, submission, status)
            finally:
                await anyio.to_thread.run_sync(temp.remove)

        unconfirmed = ledger_unavailable("the upload could not be confirmed in the ledger, so it does not count "
                                                    "as stored; try again later")
        ctx.send_filters.append(confirming(confirm, unconfirmed, ctx.scope, ctx.receive))
        ctx.after_response.append(after)

    async def _screen_files(self, ctx: RequestContext, route: UploadRoute, intake: Intake, temp: TempFiles) -> list[ScreenedFile]:
        allowed = route.content_types or self.uploads.content_types
        if intake.raw_sha256 is not None:
            facts = [raw_file_facts(ctx.scope, ctx.headers, intake)]
        else:
            facts = [
                (part.name, part.filename or "", part.content_type, intake.spool.reader(part.offset, part.length), part.hasher)
                for part in intake.parts
                if part.is_file and (part.length or part.filename)
            ]
        if not facts:
            raise Problem("malformed-upload", "the upload carries no file")
        screened: list[ScreenedFile] = []
        for field_name, filename, declared, reader, hasher in facts:
            name = sanitise_filename(filename)
            findings = await anyio.to_thread.run_sync(screen_file, reader, declared, name.name, allowed, self.uploads, temp, route.media)
            if self.uploads.virus_scan is not None:
                await scan(self.uploads.virus_scan.clamd, duration_seconds(self.uploads.virus_scan.timeout), reader)
            image, media, canonical = findings.image, findings.media, findings.canonical
            screened.append(
                ScreenedFile(
                    field=field_name,
                    name=name.name,
                    original_name_escaped=name.original_escaped,
                    declared_type=declared,
                    detected_type=findings.detected,
                    type=findings.type,
                    size=reader.length,
                    sha256=hasher.hexdigest(),
                    canonical_sha256=canonical.sha256 if canonical else None,
                    canonical_size=canonical.size if canonical else None,
                    canonical_path=canonical.path if canonical else None,
                    width=image.width if image else media.width if media else None,
                    height=image.height if image else media.height if media else None,
                    frames=image.frames if image else None,
                    duration=media.duration if media else None,
                    cleaning=canonical.method if canonical else None,
                    stripped=canonical.stripped if canonical else (),
                    kept=canonical.kept if canonical else (),
                    source=reader,
                )
            )
        return screened

    async def _record(self, ctx: RequestContext, screened: ScreenedUpload) -> Submission:
        try:
            return await self.record(ctx, screened)
        except Problem:
            raise
        except Exception:
            logger.exception("ugc_guard: recording a submission failed; the upload is refused")
            raise ledger_unavailable("the submission could not be recorded; try again later") from None

    def _replay(self, ctx: RequestContext, intake: Intake, screened: ScreenedUpload, raw: bool) -> None:
        if screened.replay == "original":
            ctx.receive = replay_receive([spool_segment(intake.spool)], ctx.receive)
            return
        if raw:
            item = screened.files[0]
            size = item.canonical_size or 0
            segments: list[Segment] = [file_segment(item.canonical_path or "", size)]
            set_body_headers(ctx.scope, size, item.type)
        else:
            rebuilt: list[tuple[Part, str, Segment]] = []
            files = iter(screened.files)
            for part in intake.parts:
                if not part.is_file:
                    rebuilt.append((part, "", bytes(part.value)))
                    continue
                if not (part.length or part.filename):
                    continue
                item = next(files)
                data: Segment = spool_segment(intake.spool, part.offset, part.length)
                if item.canonical_path and item.canonical_size is not None:
                    data = file_segment(item.canonical_path, item.canonical_size)
                    part.content_type = item.type
                rebuilt.append((part, item.name, data))
            segments, content_type = multipart_segments(rebuilt)
            set_body_headers(ctx.scope, body_length(segments), content_type)
        ctx.receive = replay_receive(segments, ctx.receive)
