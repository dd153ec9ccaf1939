"""Prometheus metrics after real requests through the middleware."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from tests.observe.conftest import Guarded
from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard.observe import metrics_app


def value(guarded: Guarded, name: str, **labels: str) -> float | None:
    observer = guarded.guard.observer
    assert observer is not None and observer.metrics is not None
    return observer.metrics.registry.get_sample_value(name, labels)


def test_nothing_is_observed_without_an_observe_section(guarded: Callable[..., Guarded]) -> None:
    site = guarded({})
    assert site.guard.observer is None
    assert site.client.get("/").status_code == 404  # the app has no / route: the request went through untouched


def test_refusals_are_counted_by_campaign_and_code(guarded: Callable[..., Guarded]) -> None:
    site = guarded({"metrics": True})
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    for _ in range(2):
        response = site.client.post("/upload", content=body, headers={"content-type": content_type})
        assert response.json()["code"] == "terms-not-accepted"
    assert site.client.get("/", headers={"host": "elsewhere.example"}).json()["code"] == "unknown-host"
    assert value(site, "ugc_guard_requests_refused_total", campaign="test-campaign", code="terms-not-accepted") == 2.0
    assert value(site, "ugc_guard_requests_refused_total", campaign="", code="unknown-host") == 1.0
    assert value(site, "ugc_guard_uploads_accepted_total", campaign="test-campaign", kind="image") is None


def test_an_accepted_upload_counts_with_its_screening_and_ledger_times(guarded: Callable[..., Guarded]) -> None:
    site = guarded({"metrics": True})
    assert accept_form(site.client).status_code == 303
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg((80, 60)))
    response = site.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201, response.text

    assert value(site, "ugc_guard_uploads_accepted_total", campaign="test-campaign", kind="image") == 1.0
    assert value(site, "ugc_guard_screening_seconds_count", campaign="test-campaign") == 1.0
    assert value(site, "ugc_guard_screening_seconds_sum", campaign="test-campaign") > 0  # type: ignore[operator]
    # the acceptance, the submission (with its grants) and its "stored" status: three appends
    assert value(site, "ugc_guard_ledger_append_seconds_count", campaign="test-campaign") == 3.0
    assert value(site, "ugc_guard_ledger_available", campaign="test-campaign") == 1.0
    assert value(site, "ugc_guard_requests_refused_total", campaign="test-campaign", code="terms-not-accepted") is None

    exposition = TestClient(metrics_app(site.guard)).get("/")
    assert exposition.status_code == 200
    assert 'ugc_guard_uploads_accepted_total{campaign="test-campaign",kind="image"} 1.0' in exposition.text
    assert "ugc_guard_ledger_append_seconds_bucket" in exposition.text


def test_an_unreachable_ledger_sets_availability_to_zero(guarded: Callable[..., Guarded], postgres_url: str) -> None:
    import psycopg

    site = guarded({"metrics": True}, ledger_url=postgres_url)
    assert accept_form(site.client).status_code == 303
    assert value(site, "ugc_guard_ledger_available", campaign="test-campaign") == 1.0
    site.ledger.close()
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    response = site.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 503 and response.json()["code"] == "ledger-unavailable"
    assert value(site, "ugc_guard_ledger_available", campaign="test-campaign") == 0.0
    assert value(site, "ugc_guard_requests_refused_total", campaign="test-campaign", code="ledger-unavailable") == 1.0


def test_the_registry_can_join_the_default_one(guarded: Callable[..., Guarded]) -> None:
    from prometheus_client import REGISTRY, generate_latest

    site = guarded({"metrics": True})
    assert site.guard.observer is not None and site.guard.observer.metrics is not None
    registry = site.guard.observer.metrics.registry
    assert site.client.get("/", headers={"host": "elsewhere.example"}).status_code == 421
    REGISTRY.register(registry)
    try:
        text = generate_latest(REGISTRY).decode()
    finally:
        REGISTRY.unregister(registry)
    assert 'ugc_guard_requests_refused_total{campaign="",code="unknown-host"} 1.0' in text


def test_metrics_app_needs_metrics_in_the_policy(guarded: Callable[..., Guarded]) -> None:
    site = guarded({"log": "text"})
    try:
        metrics_app(site.guard)
    except ValueError as error:
        assert str(error) == "no metrics: set observe.metrics: true in the policy"
    else:
        raise AssertionError("metrics_app accepted a guard without metrics")
