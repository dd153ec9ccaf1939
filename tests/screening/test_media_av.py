"""Audio and video through PyAV: real clips accepted and measured, hostile ones refused, metadata remuxed away."""

from __future__ import annotations

import io
import itertools
import random
import struct
from collections.abc import Callable, Iterator
from typing import Any

import av
import pytest

from tests.screening import avmedia, samples
from tests.screening.conftest import Screening
from tests.screening.samples import upload_form
from ugc_guard.policy.media import MediaLimits
from ugc_guard.problems import Problem
from ugc_guard.screening.av_probe import MediaReport, probe_media
from ugc_guard.screening.media import check_container, check_media
from ugc_guard.screening.spool import BodySpool, RangeReader
from ugc_guard.screening.tempfiles import TempFiles

Probe = Callable[..., tuple[MediaReport, bytes | None]]
LOCATION = "+52.3702+004.8952+001.000/"


@pytest.fixture
def temp() -> Iterator[TempFiles]:
    files = TempFiles(None)
    yield files
    files.remove()


def reader_of(data: bytes, temp: TempFiles) -> RangeReader:
    spool = BodySpool(temp, 10**9)
    spool.queue(data)
    spool._apply(spool._writes, [])
    return spool.reader()


@pytest.fixture
def probe(temp: TempFiles) -> Probe:
    """``probe(data, kind, limits)`` -> (report, the remuxed bytes) through the real check (walk, then PyAV)."""

    def run(data: bytes, kind: str, limits: MediaLimits | None = None, strip: bool = True) -> tuple[MediaReport, bytes | None]:
        report = check_media(reader_of(data, temp), kind, limits or MediaLimits(), temp if strip else None)
        if report.canonical is None:
            return report, None
        with open(report.canonical.path, "rb") as handle:
            return report, handle.read()

    return run


def refused(probe: Probe, data: bytes, kind: str, limits: MediaLimits | None = None) -> Problem:
    with pytest.raises(Problem) as caught:
        probe(data, kind, limits)
    return caught.value


CLIPS = [
    ("mp4", "video/mp4", ("h264",), ("aac",)),
    ("mov", "video/quicktime", ("h264",), ("aac",)),
    ("m4a", "audio/mp4", (), ("aac",)),
    ("webm", "video/webm", ("vp8",), ("opus",)),
    ("mp3", "audio/mpeg", (), ("mp3",)),
    ("wav", "audio/wav", (), ("pcm_s16le",)),
    ("ogg", "audio/ogg", (), ("opus",)),
]


@pytest.mark.parametrize(("name", "kind", "video", "audio"), CLIPS, ids=[row[0] for row in CLIPS])
def test_real_clips_are_measured_and_remuxed_with_every_packet_bit_exact(
    probe: Probe, name: str, kind: str, video: tuple[str, ...], audio: tuple[str, ...]
) -> None:
    data = avmedia.clip(name, seconds=1.0)
    report, cleaned = probe(data, kind)
    assert (report.video_codecs, report.audio_codecs) == (video, audio)
    assert 0.95 <= report.duration <= 1.1
    assert (report.width, report.height) == ((64, 48) if video else (None, None))
    assert report.canonical is not None and cleaned is not None and report.canonical.method == "remux"
    assert avmedia.packets(cleaned) == avmedia.packets(data)  # same payloads, same order
    assert report.canonical.size == len(cleaned)


@pytest.mark.parametrize(
    ("codec", "container", "kind"),
    [("libx265", "mov", "video/quicktime"), ("libvpx-vp9", "webm", "video/webm"), ("libsvtav1", "mp4", "video/mp4")],
)
def test_hevc_vp9_and_av1_decode(probe: Probe, codec: str, container: str, kind: str) -> None:
    quiet = {"x265-params": "log-level=none"} if codec == "libx265" else {"svtav1-params": "log-level=0"} if codec == "libsvtav1" else {}
    data = avmedia.encode(container, video=codec, audio=None, size=(64, 64), video_options=quiet)
    report, cleaned = probe(data, kind)
    assert report.video_codecs == ({"libx265": "hevc", "libvpx-vp9": "vp9", "libsvtav1": "av1"}[codec],)
    assert cleaned is not None and avmedia.packets(cleaned) == avmedia.packets(data)


def test_quicktime_location_device_and_owner_tags_are_remuxed_away(probe: Probe) -> None:
    tags = {
        "com.apple.quicktime.location.ISO6709": LOCATION, "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.model": "iPhone 15 Pro", "com.apple.quicktime.author": "Jane Owner",
    }  # fmt: skip
    with_keys = avmedia.encode("mov", metadata=tags, options={"movflags": "use_metadata_tags"})
    udta = avmedia.encode("mov", metadata={"location": LOCATION, "make": "Apple", "model": "iPhone 15 Pro", "copyright": "Jane Owner"})
    assert with_keys.count(LOCATION.encode()) == 1 and b"mdta" in with_keys
    assert b"\xa9xyz" in udta and LOCATION[:-1].encode() in udta
    for data in (with_keys, udta):
        report, cleaned = probe(data, "video/quicktime")
        assert cleaned is not None and report.canonical is not None
        for secret in (LOCATION[:12].encode(), b"Apple", b"iPhone", b"Jane Owner", b"\xa9xyz", b"Lavf"):
            assert secret not in cleaned
        with av.open(io.BytesIO(cleaned)) as container:
            assert not set(container.metadata) - {"major_brand", "minor_version", "compatible_brands"}
        assert avmedia.packets(cleaned) == avmedia.packets(data)
    stripped = probe(with_keys, "video/quicktime")[0].canonical.stripped  # type: ignore[union-attr]
    assert "metadata: com.apple.quicktime.location.ISO6709" in stripped and "metadata: com.apple.quicktime.model" in stripped
    assert "metadata: location" in probe(udta, "video/quicktime")[0].canonical.stripped  # type: ignore[union-attr]


def _tkhd_matrix(data: bytes) -> tuple[int, ...]:
    offset, _ = avmedia.find_box(data, [b"moov", b"trak", b"tkhd"])
    return struct.unpack(">9i", data[offset + 48 : offset + 84])


def test_the_display_matrix_and_hvc1_tag_are_kept_so_portrait_clips_stay_upright_on_every_player(probe: Probe) -> None:
    quiet = {"x265-params": "log-level=none"}
    data = avmedia.encode("mov", video="libx265", audio=None, rotation=90, video_options=quiet)
    data = data.replace(b"hev1", b"hvc1")  # the sample entry Apple's players need, as iPhones write it
    assert _tkhd_matrix(data)[:2] == (0, -65536)
    _, cleaned = probe(data, "video/quicktime")
    assert cleaned is not None and _tkhd_matrix(cleaned) == _tkhd_matrix(data)
    assert b"hvc1" in cleaned and b"hev1" not in cleaned


def _id3_frame(frame_id: bytes, payload: bytes) -> bytes:
    return frame_id + struct.pack(">I", len(payload)) + b"\0\0" + payload


def _id3(frames: bytes) -> bytes:
    size = len(frames)
    return b"ID3\x03\0\0" + bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F]) + frames


def test_id3_tags_with_hostile_values_and_cover_art_are_dropped(probe: Probe) -> None:
    hostile = b"\x03<script>alert(1)</script>\0after NUL " + b"A" * 300_000
    cover = samples.jpeg((32, 32))
    frames = _id3_frame(b"TIT2", hostile) + _id3_frame(b"TPE1", b"\x00Jane Owner") + _id3_frame(b"APIC", b"\x00image/jpeg\x00\x03\x00" + cover)
    data = _id3(frames) + avmedia.clip("mp3")
    report, cleaned = probe(data, "audio/mpeg")
    assert cleaned is not None and report.canonical is not None
    assert not cleaned.startswith(b"ID3") and b"<script" not in cleaned and b"Jane Owner" not in cleaned and len(cleaned) < 10_000
    assert avmedia.packets(cleaned) == avmedia.packets(avmedia.clip("mp3"))
    assert "stream 1 (video)" in report.canonical.stripped and "metadata: title" in report.canonical.stripped  # cover art, tags


def test_matroska_tags_with_markup_and_huge_values_are_dropped(probe: Probe) -> None:
    tags = {"title": "<svg onload=alert(1)>" + "x" * 200_000, "artist": "Jane Owner", "location": LOCATION}
    data = avmedia.encode("webm", video="libvpx", audio="libopus", metadata=tags)
    report, cleaned = probe(data, "video/webm")
    assert cleaned is not None and b"<svg" not in cleaned and b"Jane Owner" not in cleaned and LOCATION[:12].encode() not in cleaned
    assert len(cleaned) < len(data) - 200_000
    assert all(len(name) <= 80 for name in report.canonical.stripped)  # type: ignore[union-attr]


def test_strip_off_checks_without_writing(probe: Probe) -> None:
    report, cleaned = probe(avmedia.clip("mov"), "video/quicktime", strip=False)
    assert report.canonical is None and cleaned is None and report.video_codecs == ("h264",)


def _scramble_slices(data: bytes) -> bytes:
    """Noise in every H.264 slice after its header; NAL lengths and types stay valid.

    FFmpeg's H.264 decoder conceals this by default (grey blocks, no error): the check must decode with
    ``err_detect=explode`` to see it.
    """
    offset, size = avmedia.find_box(data, [b"mdat"])
    body, position = bytearray(data[offset + 8 : offset + size]), 0
    rng = random.Random(3)
    while position + 4 <= len(body):
        length = struct.unpack(">I", body[position : position + 4])[0]
        if body[position + 4] & 0x1F in (1, 5):
            for index in range(position + 4 + 20, min(position + 4 + length, len(body))):
                body[index] = rng.randrange(256)
        position += 4 + length
    return data[: offset + 8] + bytes(body) + data[offset + size :]


@pytest.mark.parametrize(
    ("case", "make", "kind"),
    [
        ("every byte of mdat is noise", lambda: avmedia.scramble_mdat(avmedia.encode("mov", seconds=1, size=(160, 120))), "video/quicktime"),
        ("H.264 slice data is noise", lambda: _scramble_slices(avmedia.encode("mp4", seconds=1, size=(320, 240), audio=None)), "video/mp4"),
        ("AAC frames are noise", lambda: avmedia.scramble_mdat(avmedia.clip("m4a"), keep=0), "audio/mp4"),
    ],
)
def test_intact_boxes_with_scrambled_frames_are_refused(probe: Probe, temp: TempFiles, case: str, make: Callable[[], bytes], kind: str) -> None:
    data = make()
    check_container(reader_of(data, temp), kind)  # the plain-Python walk is satisfied: every box is intact
    refusal = refused(probe, data, kind)
    assert refusal.code == "content-rejected"
    assert "does not decode" in refusal.detail or "gives no" in refusal.detail, refusal.detail


def test_a_long_duration_header_on_a_short_mp4_does_not_fool_it(probe: Probe) -> None:
    data = avmedia.set_movie_duration(avmedia.encode("mp4", seconds=1), 36_000)  # mvhd, tkhd, mdhd, elst: ten hours
    offset, _ = avmedia.find_box(data, [b"moov", b"mvhd"])
    assert struct.unpack(">II", data[offset + 20 : offset + 28])[1] // struct.unpack(">I", data[offset + 20 : offset + 24])[0] == 36_000
    report, cleaned = probe(data, "video/mp4", MediaLimits(max_duration="PT5S"))  # judged by its packets: 1 s
    assert report.duration < 1.2 and cleaned is not None
    with av.open(io.BytesIO(cleaned)) as container:  # the app's copy states the real length
        assert container.duration is not None and container.duration < 1.2 * av.time_base
    offset, _ = avmedia.find_box(cleaned, [b"moov", b"mvhd"])
    scale, duration = struct.unpack(">II", cleaned[offset + 20 : offset + 28])
    assert duration / scale < 1.2


def _matroska_duration(data: bytes, milliseconds: float) -> bytes:
    at = data.index(b"\x44\x89\x88")  # Info > Duration, an 8-byte float in TimecodeScale units (1 ms)
    return data[: at + 3] + struct.pack(">d", milliseconds) + data[at + 11 :]


def test_a_matroska_header_that_lies_about_the_duration_is_refused(probe: Probe) -> None:
    data = avmedia.clip("webm", seconds=1.0)
    assert probe(_matroska_duration(data, 1500.0), "video/webm")[0].duration < 1.2  # a small difference is fine
    refusal = refused(probe, _matroska_duration(data, 36_000_000.0), "video/webm")
    assert refusal.code == "content-rejected" and "header says it lasts 36000.0 s but its packets last 1.0 s" in refusal.detail


LIMITS = [
    ("too long", lambda: avmedia.encode("mp4", seconds=3, audio=None, size=(32, 32)), "video/mp4", MediaLimits(max_duration="PT2S"),
     "upload-too-large", "media.max_duration"),
    ("audio too long", lambda: avmedia.clip("wav", seconds=3.0), "audio/wav", MediaLimits(max_duration="PT2S"), "upload-too-large", "at most 2 s"),
    ("120 fps", lambda: avmedia.encode("mp4", fps=120, seconds=1, audio=None, size=(32, 32)), "video/mp4", None,
     "content-rejected", "120.0 frames a second; at most 60 is accepted (media.max_frame_rate)"),
    ("wider than 4K", lambda: avmedia.encode("mp4", size=(4112, 2160), seconds=0.04, audio=None), "video/mp4", None,
     "content-rejected", "4112×2160; at most 4096×4096"),
    ("more pixels than allowed", lambda: avmedia.encode("mp4", size=(640, 480), seconds=0.1, audio=None), "video/mp4",
     MediaLimits(max_pixels=640 * 479), "content-rejected", "(media.max_pixels)"),
    ("nine streams", lambda: avmedia.encode("mov", video=None, audio_streams=9, seconds=0.2), "video/quicktime", None,
     "content-rejected", "9 streams; at most 8 are accepted (media.max_streams)"),
    ("MPEG-4 part 2 video", lambda: avmedia.encode("mp4", video="mpeg4", audio=None), "video/mp4", None,
     "content-rejected", "video codec mpeg4 is not accepted"),
    ("ALAC audio", lambda: avmedia.encode("mov", video=None, audio="alac"), "video/quicktime", None,
     "content-rejected", "audio codec alac is not accepted"),
    ("H.264 not on this route", lambda: avmedia.clip("mp4"), "video/mp4", MediaLimits(video_codecs=["vp9"]),
     "content-rejected", "accepted are vp9 (media.video_codecs)"),
    ("video in an audio file", lambda: avmedia.clip("mp4"), "audio/mp4", None, "content-rejected", "an audio file may not carry a video stream"),
    ("no stream at all", lambda: avmedia.encode("matroska", video=None, audio=None), "video/webm", None, "content-rejected", ""),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "kind", "limits", "code", "detail"), LIMITS, ids=[row[0] for row in LIMITS])
def test_limits_are_refused_naming_the_limit(
    probe: Probe, case: str, make: Callable[[], bytes], kind: str, limits: MediaLimits | None, code: str, detail: str
) -> None:
    refusal = refused(probe, make(), kind, limits)
    assert (refusal.code, detail in refusal.detail) == (code, True), refusal.detail


def test_slow_motion_passes_when_the_route_allows_it(probe: Probe) -> None:
    report, _ = probe(avmedia.encode("mp4", fps=120, seconds=1, audio=None, size=(32, 32)), "video/mp4", MediaLimits(max_frame_rate=240))
    assert report.frame_rate == pytest.approx(120, rel=0.02)


def test_a_file_that_needs_longer_than_the_budget_is_refused_not_waited_on(temp: TempFiles) -> None:
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731 - every look at the clock: one more second
    data = avmedia.encode("mp4", seconds=2, size=(32, 32))
    with pytest.raises(Problem) as caught:
        probe_media(reader_of(data, temp), "video/mp4", MediaLimits(probe_budget="PT10S"), temp, clock=clock)
    assert caught.value.code == "content-rejected"
    assert caught.value.detail == "the file could not be checked within 10 s (media.probe_budget)"
    assert next(ticks) < 40  # it stopped soon after the budget ran out, well before the 60+ packets were all read


def test_a_budget_long_enough_lets_the_same_file_through(temp: TempFiles) -> None:
    data = avmedia.encode("mp4", seconds=2, size=(32, 32))
    assert probe_media(reader_of(data, temp), "video/mp4", MediaLimits(probe_budget="PT10S"), temp).duration >= 1.9


def _post(setup: Screening, path: str, filename: str, kind: str, data: bytes) -> Any:
    body, form_type = upload_form(filename, kind, data)
    return setup.client.post(path, content=body, headers={"content-type": form_type})


def test_through_the_middleware_the_app_receives_the_remuxed_clip_and_route_limits_apply(screening: Callable[..., Screening]) -> None:
    short = {"path": "/short", "methods": ["POST"], "media": {"max_duration": "PT1S"}}
    raw = {"path": "/raw/{name}", "methods": ["PUT"], "body": "raw"}
    setup = screening({"uploads": {"routes": [raw, short], "rights": {"embed": False}}})
    data = avmedia.encode("mov", seconds=2, metadata={"location": LOCATION})
    response = setup.client.put("/raw/clip.mov", content=data, headers={"content-type": "video/quicktime", **samples.GRANT_HEADERS})
    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == "video/quicktime" and int(response.json()["content_length"]) < len(data)
    recorded = setup.ledger.recorded[0].files[0]
    assert response.json()["sha256"] == recorded.canonical_sha256 != recorded.sha256
    assert recorded.cleaning == "remux" and "metadata: location" in recorded.stripped and 1.9 < (recorded.duration or 0) < 2.2
    assert (recorded.width, recorded.height) == (64, 48)
    refusal = _post(setup, "/short", "clip.mov", "video/quicktime", data)
    assert refusal.status_code == 413 and refusal.json()["code"] == "upload-too-large" and "media.max_duration" in refusal.json()["detail"]
    assert len(setup.ledger.recorded) == 1 and setup.leftovers() == []


def _noise_in_packet(data: bytes, index: int, keyframes: bool, keep: int) -> bytes:
    """Noise over one packet's payload (after ``keep`` bytes), found by its position in the file."""
    with av.open(io.BytesIO(data)) as container:
        found = [packet for packet in container.demux() if packet.size and (packet.is_keyframe or not keyframes)]
        position, size = found[index].pos, found[index].size
    return data[: position + keep] + random.Random(index).randbytes(size - keep) + data[position + size :]


def test_keyframes_deep_in_a_clip_and_its_last_are_decoded_too(probe: Probe) -> None:
    gop = {"x264-params": "keyint=30:min-keyint=30:scenecut=0"}
    data = avmedia.encode("mp4", seconds=25, size=(32, 32), audio=None, video_options=gop)  # a keyframe every second
    assert 24.9 < probe(data, "video/mp4")[0].duration < 25.1
    for keyframe in (10, 24):  # sampled at 10 s (then 30 s, 90 s… would follow), and the last keyframe
        refusal = refused(probe, _noise_in_packet(data, keyframe, keyframes=True, keep=24), "video/mp4")
        assert refusal.code == "content-rejected" and "video stream 0" in refusal.detail, refusal.detail


def test_audio_windows_across_the_file_are_decoded(probe: Probe) -> None:
    data = avmedia.encode("mp4", video=None, seconds=3, options={"brand": "M4A "})  # 142 AAC packets
    assert probe(data, "audio/mp4")[0].audio_codecs == ("aac",)
    for index in (33, 141):  # inside the window at packet 32, and among the last four
        refusal = refused(probe, _noise_in_packet(data, index, keyframes=False, keep=0), "audio/mp4")
        assert refusal.code == "content-rejected" and "audio stream 0" in refusal.detail, refusal.detail
