"""Decoding just enough of each audio and video stream to prove it is what it says.

Decoders run single-threaded with FFmpeg's ``err_detect=explode``: a damaged stream raises an error
instead of being concealed (without it, scrambled H.264 slices still "decode" to grey blocks).

- **Video:** the first frame (feeding packets from the start until the decoder gives one), then a
  keyframe decoded on its own each time the stream has run past 10 s, 30 s, 90 s, … (×3), and the last
  keyframe of the stream.
- **Audio:** windows of four consecutive packets at packet 0, 16, 32, 64, … (×2) and the last four;
  every window must give samples, and only the first packet of a window in the middle of a stream may
  fail (a decoder joining mid-stream may lack state, e.g. the MP3 bit reservoir).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import av

from ..policy.media import MediaLimits
from ..problems import Problem

__all__ = ["AudioSampler", "VideoSampler", "decoder_for"]

FIRST_FRAME_PACKETS = 64
WINDOW = 4


def _reject(why: str) -> Problem:
    return Problem("content-rejected", why)


def decoder_for(stream: Any) -> Any:
    """Return the stream's codec context, set up to decode in this thread and fail on any error."""
    context = stream.codec_context
    context.thread_count = 1
    context.options = {"err_detect": "explode"}
    return context


def check_frame_size(width: int, height: int, limits: MediaLimits, where: str) -> None:
    """Raise 422 when a video frame is larger than the limits (naming them)."""
    if width > limits.max_width or height > limits.max_height:
        raise _reject(f"{where} is {width}×{height}; at most {limits.max_width}×{limits.max_height} is accepted (media.max_width/max_height)")
    if width * height > limits.max_pixels:
        raise _reject(f"{where} has {width * height} pixels a frame; at most {limits.max_pixels} are accepted (media.max_pixels)")


class VideoSampler:
    """Decodes the first frame and sampled keyframes of one video stream."""

    def __init__(self, stream: Any, limits: MediaLimits) -> None:
        self.stream, self.limits = stream, limits
        self.context = decoder_for(stream)
        self.fed = 0
        self.first_seen = False
        self.next_mark = 10.0
        self.last_key: Any = None

    def _decode(self, packet: Any) -> list[Any]:
        try:
            frames = list(self.context.decode(packet))
        except av.FFmpegError as error:
            raise _reject(f"video stream {self.stream.index} does not decode ({_reason(error)})") from None
        for frame in frames:
            check_frame_size(frame.width, frame.height, self.limits, "a decoded video frame")
        return frames

    def _alone(self, packet: Any, seconds: float) -> None:
        self.context.flush_buffers()
        frames = self._decode(packet) + self._decode(None)
        self.context.flush_buffers()
        if not frames:
            raise _reject(f"the keyframe of video stream {self.stream.index} at {seconds:.1f} s gives no picture")

    def feed(self, packet: Any, seconds: float) -> None:
        """Take the next packet of the stream; ``seconds`` is its time from the stream's start."""
        if not self.first_seen:
            self.fed += 1
            if self._decode(packet):
                self.first_seen = True
                self.context.flush_buffers()
            elif self.fed >= FIRST_FRAME_PACKETS:
                raise _reject(f"video stream {self.stream.index} gives no picture in its first {FIRST_FRAME_PACKETS} packets")
            return
        if packet.is_keyframe:
            if seconds >= self.next_mark:
                self._alone(packet, seconds)
                self.next_mark *= 3
                self.last_key = None
            else:
                self.last_key = (packet, seconds)

    def finish(self) -> None:
        """Decode what is still due once the stream has ended; raise 422 when it fails."""
        if not self.first_seen:
            if not self.fed or not self._decode(None):
                raise _reject(f"video stream {self.stream.index} has no frame that decodes")
            self.first_seen = True
            self.context.flush_buffers()
        if self.last_key is not None:
            self._alone(*self.last_key)


class AudioSampler:
    """Decodes windows of packets spread over one audio stream."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.context = decoder_for(stream)
        self.count = 0
        self.next_start = 0
        self.left = 0
        self.start = 0
        self.samples = 0
        self.tail: deque[Any] = deque(maxlen=WINDOW)

    def _decode(self, packet: Any, may_fail: bool) -> None:
        try:
            self.samples += sum(frame.samples for frame in self.context.decode(packet))
        except av.FFmpegError as error:
            if not may_fail:
                raise _reject(f"audio stream {self.stream.index} does not decode ({_reason(error)})") from None

    def feed(self, packet: Any) -> None:
        """Take the next packet of the stream."""
        index, self.count = self.count, self.count + 1
        if index == self.next_start:
            self.context.flush_buffers()
            self.start, self.left, self.samples = index, WINDOW, 0
        if self.left:
            self._decode(packet, may_fail=index == self.start and index > 0)
            self.left -= 1
            if not self.left:
                self._close_window()
                self.next_start = max(16, self.next_start * 2)
                self.tail.clear()
        else:
            self.tail.append(packet)

    def _close_window(self) -> None:
        self._decode(None, may_fail=False)
        if not self.samples:
            raise _reject(f"audio stream {self.stream.index} gives no sound at packet {self.start}")
        self.context.flush_buffers()

    def finish(self) -> None:
        """Decode the open window and the last packets; raise 422 when they give no sound."""
        if not self.count:
            raise _reject(f"audio stream {self.stream.index} has no packets")
        if self.left:
            self._close_window()
        if self.tail:
            self.context.flush_buffers()
            self.start, self.samples = self.count - len(self.tail), 0
            for position, packet in enumerate(self.tail):
                self._decode(packet, may_fail=position == 0)
            self._close_window()


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
