"""The campaign look of the built-in pages: name, colours, logo and the site's own templates.

Colours are checked at load time so no policy can ship unreadable pages: the text colour and the
primary colour (links, buttons) must each reach a WCAG 2.x contrast ratio of 4.5:1 against the
background. A logo is an ``https://`` URL, a path on the site (``/static/logo.svg``) or an image file
next to the policy, which is inlined (``data:`` URI, at most 64 KiB). ``templates`` names a folder
whose files replace the built-in templates of the same name.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from .base import Section

__all__ = ["Colours", "Look", "contrast_ratio"]

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_LOGO_URL = re.compile(r"https://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?(?:/[!-~]*)?", re.IGNORECASE)
"""An https URL whose origin is a plain ASCII host (IDN as punycode) and optional port, and no space or control anywhere:
its origin joins the pages' CSP ``img-src``, so nothing in it may end the directive or the header."""
_SITE_PATH = re.compile(r"/(?![/\\])[!-~]*")
"""A path on the site: not ``//host`` or ``/\\host`` (another site to a browser), no space or control."""
MINIMUM_CONTRAST = 4.5
MAX_LOGO_BYTES = 64 * 1024
_LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _channels(colour: str) -> tuple[int, int, int]:
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(char * 2 for char in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """Return the WCAG contrast ratio (1 to 21) of two ``#rgb`` / ``#rrggbb`` colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class Colours(Section):
    background: str = Field("#ffffff", validate_default=True)
    """Page background (``#rgb`` or ``#rrggbb``)."""
    primary: str = Field("#0b4f9c", validate_default=True)
    """Links, buttons and focus marks; at least 4.5:1 against ``background``."""
    text: str = Field("#1b1b1b", validate_default=True)
    """Body text; at least 4.5:1 against ``background``."""

    @field_validator("background", "primary", "text")
    @classmethod
    def _hex(cls, value: str, info: ValidationInfo) -> str:
        if not _HEX.fullmatch(value):
            raise ValueError(f"{value!r} is not a hex colour; write it as #rrggbb, e.g. #0b4f9c")
        background = info.data.get("background")
        if info.field_name != "background" and background is not None:  # background comes first, so it is known here
            ratio = contrast_ratio(value, background)
            if ratio < MINIMUM_CONTRAST:
                raise ValueError(
                    f"{value} on background {background} has a contrast ratio of {ratio:.2f}:1; it must be at least "
                    f"{MINIMUM_CONTRAST}:1 (WCAG 2.2 AA), choose a darker or lighter colour"
                )
        return value.lower()


def _logo(value: Any, info: ValidationInfo) -> str | None:
    if value is None or (isinstance(value, str) and value.startswith("data:image/")):
        return value
    if isinstance(value, str) and value.startswith(("https://", "http://", "/")):
        if _LOGO_URL.fullmatch(value) or _SITE_PATH.fullmatch(value):
            return value
        raise ValueError(f"{value!r} is not a logo URL: write https://host/path (an IDN host as punycode, no spaces) or a path on the site "
                         "such as /static/logo.svg")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an https:// URL, a path on the site such as /static/logo.svg, or an image file next to the policy")
    path = (Path((info.context or {}).get("base_dir", ".")) / value).resolve()
    media = _LOGO_TYPES.get(path.suffix.lower())
    if media is None:
        raise ValueError(f"logo {path} must be a {', '.join(sorted(_LOGO_TYPES))} file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"logo {path} cannot be read ({error.strerror}); fix the path (relative to the policy file)") from None
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"logo {path} has {len(data)} bytes; at most {MAX_LOGO_BYTES} are inlined, serve a bigger one as a URL")
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


class Look(Section):
    name: str | None = Field(None, min_length=1, max_length=200)
    """Name shown in the header of every page (default: ``campaign.name``)."""
    colours: Colours = Colours()
    """Colours of the built-in pages (checked for contrast at load time)."""
    logo: str | None = None
    """An ``https://`` URL, a path on the site, or a PNG/SVG/JPEG/WebP file next to the policy (inlined, at most 64 KiB)."""
    logo_alt: str = Field("", max_length=200)
    """Text alternative of the logo (empty: the logo is decoration beside the name)."""
    templates: Path | None = None
    """A folder (relative to the policy file) whose ``*.html`` files replace the built-in templates of the same name."""

    @field_validator("logo", mode="before")
    @classmethod
    def _logo(cls, value: Any, info: ValidationInfo) -> str | None:
        return _logo(value, info)

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = (Path((info.context or {}).get("base_dir", ".")) / str(value)).resolve()
        if not path.is_dir():
            raise ValueError(f"templates folder {path} does not exist; create it or fix the path (relative to the policy file)")
        return path

    @property
    def logo_origin(self) -> str | None:
        """The origin a logo URL is fetched from (for the pages' ``img-src``), ``data:`` for an inlined one, else None."""
        if self.logo is None or self.logo.startswith("/"):
            return None
        if self.logo.startswith("data:"):
            return "data:"
        scheme, _, rest = self.logo.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
