"""What screening stripped and kept is part of the submission's ledger entry (and so of its receipt)."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

from tests.security.conftest import GRANTS, Site, accept, make_site  # noqa: F401  (make_site: the fixture)
from ugc_guard.ledger import Ledger


def photo_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}  # GPS
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_submission_entry_names_what_was_stripped_and_kept(make_site: Callable[..., Site]) -> None:  # noqa: F811
    site = make_site()
    client = site.client()
    assert accept(client).status_code == 303
    answer = client.post("/upload", files={"media": ("a.jpg", photo_with_location(), "image/jpeg")}, data=GRANTS)
    assert answer.status_code == 201, answer.text
    (entry,) = Ledger(site.ledger_url).submissions().items
    assert entry.data["cleaning"] == "lossless"
    assert "EXIF" in entry.data["stripped"] and "EXIF orientation" in entry.data["kept"]
    receipt = site.spy.calls[-1]["ugc"].receipt.to_dict()
    assert receipt["entries"][0]["summary"]["stripped"] == entry.data["stripped"]
