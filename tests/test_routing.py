from __future__ import annotations

import pytest

from ugc_guard.policy.uploads import UploadRoute
from ugc_guard.routing import RouteTable, normalise_path, relative_path


@pytest.mark.parametrize(
    "variant",
    [
        "/upload", "/upload/", "/UPLOAD", "/Upload/", "//upload", "/./upload", "/x/../upload", "/upload/.",
        "/%75pload", "/%2575pload", "/up%6coad/", "\\upload", "/upload;jsessionid=1", "/a/b/../../upload",
        "/../../upload", "/upload//",
    ],
)  # fmt: skip
def test_every_spelling_of_a_path_normalises_to_one(variant: str) -> None:
    assert normalise_path(variant) == "/upload"


def test_normalisation_keeps_distinct_paths_distinct() -> None:
    assert normalise_path("/uploads") != normalise_path("/upload")
    assert normalise_path("/upload/extra") == "/upload/extra"


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [("/campaign/upload", "/campaign", "/upload"), ("/upload", "/campaign", "/upload"), ("/campaign", "/campaign", "/"),
     ("/campaigner/upload", "/campaign", "/campaigner/upload"), ("/upload", "", "/upload")],
)  # fmt: skip
def test_root_path_is_stripped_when_present(path: str, root: str, expected: str) -> None:
    assert relative_path(path, root) == expected


def test_route_table_matches_exact_parameter_and_prefix_routes() -> None:
    table = RouteTable(
        [UploadRoute(path="/upload"), UploadRoute(path="/entries/{entry}/media"), UploadRoute(path="/media/*")]
    )
    assert table.match("/upload") is not None
    assert table.match("/uploads") is None
    assert table.match("/entries/42/media") is not None
    assert table.match("/entries/42/media/x") is None
    assert table.match("/media") is not None and table.match("/media/a/b") is not None
    assert table.match("/mediax") is None


def test_route_patterns_are_case_insensitive() -> None:
    table = RouteTable([UploadRoute(path="/Upload")])
    assert table.match(normalise_path("/UPLOAD/")) is not None
