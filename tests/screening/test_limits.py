"""Limits, counted as the bytes arrive: sizes give 413, counts and structure a fast 400."""

from __future__ import annotations

from collections.abc import Callable

from tests.screening.conftest import Screening, drive
from tests.screening.samples import GRANT_HEADERS, GRANTS, jpeg, multipart, upload_form
from ugc_guard.screening import metrics

SMALL = {"uploads": {"routes": [
    {"path": "/upload", "limits": {"max_total_bytes": "256KiB", "max_file_bytes": "128KiB", "max_fields": 5,
                                   "max_files": 2, "max_field_bytes": "1KiB", "max_part_header_bytes": "1KiB"}},
    {"path": "/raw/{name}", "methods": ["PUT"], "body": "raw", "limits": {"max_total_bytes": "64KiB", "max_file_bytes": "64KiB"}},
]}}  # fmt: skip
CHUNK = 16 * 1024


def _chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def test_lying_content_length_is_refused_once_the_counted_bytes_pass_the_limit(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = upload_form("big.jpg", "image/jpeg", b"\xff\xd8" + b"\0" * (1024 * 1024))
    chunks = _chunks(body)
    sent = drive(setup.app, "POST", "/upload", {"content-type": content_type, "content-length": "900"}, chunks)
    assert sent.status == 413
    assert sent.headers["content-type"] == "application/problem+json"
    assert b'"code": "upload-too-large"' in sent.body
    assert sent.chunks_read == 128 // 16 + 1  # the first chunk past the 128 KiB file limit, not one more
    assert setup.ledger.recorded == []
    assert setup.leftovers() == []


def test_chunked_body_without_content_length_is_counted(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    chunks = _chunks(b"\0" * (200 * 1024), 8 * 1024)
    sent = drive(setup.app, "PUT", "/raw/clip.mp4", {"content-type": "video/mp4", "transfer-encoding": "chunked", **GRANT_HEADERS}, chunks)
    assert sent.status == 413
    assert sent.chunks_read == 64 // 8 + 1
    assert setup.leftovers() == []


def test_declared_length_above_the_limit_is_refused_before_reading(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    sent = drive(setup.app, "PUT", "/raw/x.jpg", {"content-type": "image/jpeg", "content-length": str(10**9), **GRANT_HEADERS}, [b"x"])
    assert (sent.status, sent.chunks_read) == (413, 0)


def test_file_larger_than_max_file_bytes_gives_413(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = upload_form("a.jpg", "image/jpeg", jpeg() + b"\0" * (130 * 1024))
    response = setup.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 413
    assert response.json()["code"] == "upload-too-large"


def test_huge_non_file_field_is_a_fast_400(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = multipart([("comment", None, None, b"a" * (200 * 1024)), ("file", "a.jpg", "image/jpeg", jpeg())])
    sent = drive(setup.app, "POST", "/upload", {"content-type": content_type}, _chunks(body, 1024))
    assert sent.status == 400
    assert b"malformed-upload" in sent.body
    assert sent.chunks_read <= 3


def test_thousands_of_fields_are_a_fast_400(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = multipart([(f"f{index}", None, None, b"x") for index in range(5000)])
    sent = drive(setup.app, "POST", "/upload", {"content-type": content_type}, _chunks(body, 1024))
    assert sent.status == 400
    assert sent.chunks_read <= 2
    assert b"more than 5 form fields" in sent.body


def test_thousands_of_file_parts_are_a_fast_400(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = multipart([("file", f"{index}.jpg", "image/jpeg", b"x") for index in range(3000)])
    sent = drive(setup.app, "POST", "/upload", {"content-type": content_type}, _chunks(body, 4096))
    assert sent.status == 400
    assert sent.chunks_read <= 2


def test_one_megabyte_part_header_is_a_fast_400(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body = b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + b"a" * 1024 * 1024 + b'"\r\n\r\nx\r\n--b--\r\n'
    sent = drive(setup.app, "POST", "/upload", {"content-type": "multipart/form-data; boundary=b"}, _chunks(body, 4096))
    assert sent.status == 400
    assert sent.chunks_read <= 2


def test_many_part_headers_are_refused(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    headers = b"".join(b"X-H%d: v\r\n" % index for index in range(100))
    body = b'--b\r\nContent-Disposition: form-data; name="f"\r\n' + headers + b"\r\nx\r\n--b--\r\n"
    response = setup.client.post("/upload", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400


def test_boundary_longer_than_rfc_2046_allows_is_refused(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, _content_type = upload_form("a.jpg", "image/jpeg", jpeg())
    long_type = "multipart/form-data; boundary=" + "b" * 300
    sent = drive(setup.app, "POST", "/upload", {"content-type": long_type}, [body])
    assert (sent.status, sent.chunks_read) == (400, 0)


def test_redos_shaped_boundary_is_refused_at_once(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    cases = ["-" * 69 + "!", '"' + "a" * 69 + ' "', "=" * 40 + '"' + "\t" * 30, ";" * 70, '";' * 500, "\\" * 4000]
    for boundary in cases:
        sent = drive(setup.app, "POST", "/upload", {"content-type": f"multipart/form-data; boundary={boundary}"}, [b"x"])
        assert (sent.status, sent.chunks_read) == (400, 0), boundary


def test_megabytes_of_crlf_preamble_are_a_fast_400(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    body, content_type = upload_form("a.jpg", "image/jpeg", jpeg())
    chunks = _chunks(b"\r\n" * (2 * 1024 * 1024) + body, 4096)
    sent = drive(setup.app, "POST", "/upload", {"content-type": content_type}, chunks)
    assert sent.status == 400
    assert sent.chunks_read == 1
    assert b"does not start with its boundary" in sent.body


def test_body_ending_before_the_closing_boundary_is_malformed(screening: Callable[..., Screening]) -> None:
    setup = screening()
    body, content_type = upload_form("a.jpg", "image/jpeg", jpeg())
    response = setup.client.post("/upload", content=body[:-30], headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-upload"
    assert setup.leftovers() == []


def test_not_multipart_on_a_multipart_route_is_refused(screening: Callable[..., Screening]) -> None:
    setup = screening()
    response = setup.client.post("/upload", content=b"a=b", headers={"content-type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.json()["code"]) == (400, "malformed-upload")


def test_form_without_a_file_is_refused(screening: Callable[..., Screening]) -> None:
    setup = screening()
    body, content_type = multipart([(name, None, None, value.encode()) for name, value in GRANTS.items()])
    response = setup.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert "no file" in response.json()["detail"]


def test_file_in_another_field_than_the_route_names_is_refused(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"routes": [{"path": "/upload", "file_field": "media"}]}})
    body, content_type = upload_form("a.jpg", "image/jpeg", jpeg(), field="other")
    response = setup.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    body, content_type = upload_form("a.jpg", "image/jpeg", jpeg(), field="media")
    assert setup.client.post("/upload", content=body, headers={"content-type": content_type}).status_code == 200


def test_refusals_are_counted_by_code_only(screening: Callable[..., Screening]) -> None:
    setup = screening(SMALL)
    before = metrics.refusals["upload-too-large"]
    sent = drive(setup.app, "PUT", "/raw/x.jpg", {"content-type": "image/jpeg", "content-length": str(10**9), **GRANT_HEADERS}, [b"x"])
    assert sent.status == 413
    assert metrics.refusals["upload-too-large"] == before + 1
    assert all(isinstance(code, str) and code.islower() for code in metrics.snapshot()["refusals"])  # type: ignore[union-attr]


def test_temporary_files_of_dead_processes_are_swept_and_live_ones_kept(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from ugc_guard.screening.tempfiles import TempFiles, sweep_orphans

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    orphan = tmp_path / f"ugc-guard-{dead.stdout.strip()}-abc.body"
    orphan.write_bytes(b"left by a killed worker")
    fd, mine = TempFiles(str(tmp_path)).create(".body")
    os.close(fd)
    unrelated = tmp_path / "someone-else.tmp"
    unrelated.write_bytes(b"not ours")
    assert sweep_orphans(str(tmp_path)) == 1
    assert not orphan.exists() and os.path.exists(mine) and unrelated.exists()
