"""Audio and video opened with FFmpeg's libraries (PyAV), checked against the policy, sample-decoded and remuxed.

One pass over the packets does it all: every packet is counted (duration and frame rate come from the
timestamps, not from a header that could lie), the samplers decode what proves each stream (see
``av_samples``) and, when metadata is stripped, the remuxer copies it into the clean file. Only the
demuxer of the file's accepted type is used (``format=``): FFmpeg never guesses a format, so a playlist
or image sequence posing as a clip is never opened, and QuickTime external data references stay off.

The pass has a time budget (``media.probe_budget``): FFmpeg's interrupt callback aborts opening and
reading once it is spent, and the budget is checked between packets, so a file that needs longer is
refused (422) rather than waited on. Blocking: run in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av

from ..policy.media import MediaLimits
from ..policy.types import duration_seconds
from ..problems import Problem
from .av_samples import AudioSampler, VideoSampler, check_frame_size
from .models import CleanedFile
from .remux import Remuxer
from .spool import RangeReader
from .tempfiles import TempFiles, storage_error

__all__ = ["Budget", "MediaReport", "probe_media"]

DEMUXERS = {
    "video/mp4": "mov", "audio/mp4": "mov", "video/quicktime": "mov",
    "video/webm": "matroska", "audio/webm": "matroska", "video/x-matroska": "matroska",
    "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "video/ogg": "ogg", "audio/opus": "ogg",
}  # fmt: skip
DECLARED_DURATION = {"mov", "matroska"}
"""Demuxers whose header states a duration (``mvhd``/``mdhd``, Matroska ``Duration``) rather than FFmpeg estimating one."""
OPEN_OPTIONS = {"enable_drefs": "0", "max_streams": "100"}


def _reject(why: str) -> Problem:
    return Problem("content-rejected", why)


class Budget:
    """The time one file may take; ``check`` raises 422 once it is spent."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.deadline = clock() + seconds

    def remaining(self) -> float:
        return max(0.001, self.deadline - self.clock())

    def check(self) -> None:
        if self.clock() > self.deadline:
            raise self.refusal()

    def refusal(self) -> Problem:
        return _reject(f"the file could not be checked within {self.seconds:g} s (media.probe_budget)")


@dataclass(frozen=True, slots=True)
class MediaReport:
    """What the clip is, as measured; ``canonical`` is the remuxed file without metadata."""

    duration: float
    video_codecs: tuple[str, ...]
    audio_codecs: tuple[str, ...]
    width: int | None
    height: int | None
    frame_rate: float | None
    canonical: CleanedFile | None


class _Timing:
    """First and last timestamps and the packet count of one stream."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.end = 0.0
        self.count = 0

    def add(self, packet: Any) -> float:
        stamp = packet.pts if packet.pts is not None else packet.dts
        base = packet.time_base
        self.count += 1
        if stamp is None or base is None:
            return 0.0
        begin = float(stamp * base)
        self.start = begin if self.start is None else min(self.start, begin)
        self.end = max(self.end, begin + float((packet.duration or 0) * base))
        return begin - self.start

    @property
    def seconds(self) -> float:
        return 0.0 if self.start is None else self.end - self.start


def probe_media(
    reader: RangeReader, kind: str, limits: MediaLimits, temp: TempFiles | None, clock: Callable[[], float] = time.monotonic
) -> MediaReport:
    """Check an audio or video file against ``limits``; with ``temp``, also remux it without metadata.

    Raises 422 ``content-rejected`` (not decodable, a limit other than duration, a header that lies,
    the budget spent), 413 ``upload-too-large`` (longer than ``max_duration``) or 503
    ``storage-unavailable`` (the clean file cannot be written), each naming what failed.
    """
    budget = Budget(duration_seconds(limits.probe_budget), clock)
    demuxer = DEMUXERS[kind]
    remuxer: Remuxer | None = None
    try:
        reader.seek(0)
        with av.open(reader, "r", format=demuxer, container_options=OPEN_OPTIONS, timeout=(budget.remaining(), budget.remaining())) as container:
            streams = _kept_streams(container, kind, limits)
            remuxer = Remuxer(kind, container, streams, temp) if temp is not None else None
            return _walk(container, streams, limits, budget, remuxer, demuxer)
    except Problem:
        raise
    except av.ExitError:
        raise budget.refusal() from None
    except OSError as error:
        if storage_error(error) is not None:
            raise Problem("storage-unavailable", f"the cleaned file could not be stored ({error.strerror}); try again later") from None
        raise _reject(f"the file cannot be read as {demuxer} ({_reason(error)})") from None
    except Exception as error:
        raise _reject(f"the file cannot be read as {demuxer} ({_reason(error)})") from None
    finally:
        if remuxer is not None:
            remuxer.abandon()


def _kept_streams(container: Any, kind: str, limits: MediaLimits) -> list[Any]:
    streams = list(container.streams)
    if len(streams) > limits.max_streams:
        raise _reject(f"the file has {len(streams)} streams; at most {limits.max_streams} are accepted (media.max_streams)")
    kept = []
    for stream in streams:
        if stream.type not in ("video", "audio") or stream.disposition & av.stream.Disposition.attached_pic:
            continue  # timed metadata, subtitles, attachments and cover art are never passed on
        if stream.codec_context is None:
            raise _reject(f"stream {stream.index} is in a codec that cannot be decoded here")
        name = stream.codec.canonical_name
        allowed = limits.video_codecs if stream.type == "video" else limits.audio_codecs
        if name not in allowed:
            key = "media.video_codecs" if stream.type == "video" else "media.audio_codecs"
            raise _reject(f"{stream.type} codec {name} is not accepted; accepted are {', '.join(allowed)} ({key})")
        if stream.type == "video":
            if kind.startswith("audio/"):
                raise _reject("an audio file may not carry a video stream")
            context = stream.codec_context
            if context.width and context.height:
                check_frame_size(context.width, context.height, limits, "the video")
        kept.append(stream)
    if not kept:
        raise _reject("the file carries no audio or video stream")
    return kept


def _walk(container: Any, streams: list[Any], limits: MediaLimits, budget: Budget, remuxer: Remuxer | None, demuxer: str) -> MediaReport:
    max_seconds = duration_seconds(limits.max_duration)
    timings = {stream.index: _Timing() for stream in streams}
    samplers: dict[int, Any] = {stream.index: VideoSampler(stream, limits) if stream.type == "video" else AudioSampler(stream) for stream in streams}
    for packet in container.demux(streams):
        budget.check()
        if packet.size == 0:
            continue  # the demuxer's end-of-stream marker
        timing = timings[packet.stream.index]
        offset = timing.add(packet)
        if timing.seconds > max_seconds + 1:
            raise _too_long(timing.seconds, max_seconds)
        sampler = samplers[packet.stream.index]
        if isinstance(sampler, VideoSampler):
            sampler.feed(packet, offset)
        else:
            sampler.feed(packet)
        if remuxer is not None:
            remuxer.write(packet)
    for sampler in samplers.values():
        budget.check()
        sampler.finish()
    measured = max(timing.seconds for timing in timings.values())
    if measured > max_seconds:
        raise _too_long(measured, max_seconds)
    declared = container.duration / av.time_base if container.duration else None
    if demuxer in DECLARED_DURATION and declared is not None and abs(declared - measured) > max(2.0, measured / 2):
        raise _reject(f"the file's header says it lasts {declared:.1f} s but its packets last {measured:.1f} s")
    video = [stream for stream in streams if stream.type == "video"]
    rate = _frame_rate(video[0], timings[video[0].index]) if video else None
    if rate is not None and rate > limits.max_frame_rate * 1.02:
        raise _reject(f"the video runs at {rate:.1f} frames a second; at most {limits.max_frame_rate} is accepted (media.max_frame_rate)")
    cleaned = remuxer.finish() if remuxer is not None else None
    return MediaReport(
        duration=round(measured, 3),
        video_codecs=tuple(stream.codec.canonical_name for stream in video),
        audio_codecs=tuple(stream.codec.canonical_name for stream in streams if stream.type == "audio"),
        width=video[0].codec_context.width if video else None,
        height=video[0].codec_context.height if video else None,
        frame_rate=None if rate is None else round(rate, 3),
        canonical=cleaned,
    )


def _frame_rate(stream: Any, timing: _Timing) -> float | None:
    if timing.count >= 10 and timing.seconds >= 0.5:
        return timing.count / timing.seconds
    guessed = stream.average_rate or stream.guessed_rate
    return float(guessed) if guessed else None


def _too_long(seconds: float, limit: float) -> Problem:
    return Problem("upload-too-large", f"the clip lasts at least {seconds:.1f} s; at most {limit:g} s is accepted (media.max_duration)")


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
