"""Standard Webhooks to a real local receiver, checked with the official ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.observe.conftest import SECRET, Guarded, Receiver
from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard.cli import main
from ugc_guard.ledger.outbox import Outbox
from ugc_guard.observe import deliver_due, record_events, sign
from ugc_guard.observe.events import events_for
from ugc_guard.policy import load_policy

T0 = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)


def hooks(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {"webhooks": [{"url": receiver.url, "secret": SECRET}], **extra}


def verified(post: Any, secret: str = SECRET) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(post.body, post.headers)
    return payload


def test_the_signature_is_the_one_the_official_package_makes() -> None:
    body = json.dumps({"type": "acceptance.recorded", "timestamp": "2030-01-01T12:00:00.000Z", "data": {"entry_id": 1}})
    stamp = int(T0.timestamp())
    assert sign(SECRET, "msg_1", stamp, body) == Webhook(SECRET).sign("msg_1", T0, body)


def test_events_of_requests_arrive_signed_with_ids_and_hashes_only(guarded: Callable[..., Guarded], receiver: Receiver) -> None:
    site = guarded(hooks(receiver))
    assert accept_form(site.client).status_code == 303
    body, content_type = upload_form("holiday-of-jan-jansen.jpg", "image/jpeg", jpeg((80, 60)))
    response = site.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201
    token = re.search(r'name="csrf_token" value="([^"]+)"', site.client.get("/ugc-guard/me").text)
    assert token is not None
    withdrawn = site.client.post("/ugc-guard/me/withdraw", data={"csrf_token": token.group(1), "scope": "portrait",
                                                                 "submission": response.json()["id"]}, follow_redirects=False)
    assert withdrawn.status_code == 303
    worker = events_for(site.guard.sites[0])
    assert worker is not None
    worker.join(timeout=30)

    payloads = [verified(post) for post in receiver.posts]
    assert [item["type"] for item in payloads] == ["acceptance.recorded", "submission.stored", "withdrawal.recorded"]
    (submission,) = site.ledger.submissions().items
    subject_hash = hashlib.sha256(str(submission.subject).encode()).hexdigest()[:32]
    accepted, stored, withdrawal = (item["data"] for item in payloads)
    assert accepted["campaign"] == "test-campaign" and accepted["subject_hash"] == subject_hash
    assert accepted["terms_version"] == "1" and accepted["guardians"] == 0 and isinstance(accepted["entry_id"], int)
    digest = hashlib.sha256(jpeg((80, 60))).hexdigest()
    assert stored["submission_id"] == submission.id and stored["files"][0]["content_sha256"] == digest
    assert stored["files"][0]["type"] == "image/jpeg" and stored["subject_hash"] == subject_hash
    assert withdrawal["scope"] == "portrait" and withdrawal["files"][0]["submission_id"] == submission.id
    everything = b"\n".join(post.body for post in receiver.posts).decode()
    assert str(submission.subject) not in everything and "jansen" not in everything and "testclient" not in everything
    assert all(re.fullmatch(r"msg_[0-9a-f]{32}", post.headers["webhook-id"]) for post in receiver.posts)
    rows = Outbox(site.ledger).list()
    assert [(row.type, row.status, row.attempts) for row in reversed(rows)] == [
        ("acceptance.recorded", "delivered", 1), ("submission.stored", "delivered", 1), ("withdrawal.recorded", "delivered", 1)]


def test_an_endpoint_receives_only_its_event_types(guarded: Callable[..., Guarded], receiver: Receiver) -> None:
    site = guarded({"webhooks": [{"url": receiver.url, "secret": SECRET, "events": ["submission.stored"]}]})
    assert accept_form(site.client).status_code == 303
    assert Outbox(site.ledger).list() == []  # no endpoint takes acceptance.recorded: nothing queued


def test_failed_deliveries_are_retried_with_backoff_then_delivered(
    receiver: Receiver, policy_file: Callable[..., Path], guarded: Callable[..., Guarded], ledger_url: str
) -> None:
    site = guarded(hooks(receiver), ledger_url=ledger_url)
    policy = load_policy(policy_file({"observe": hooks(receiver)}))
    receiver.failures = 2
    assert record_events(site.ledger, policy, "retention.deleted", rule="submissions", files=[{"submission_id": 7}]) == 1
    outbox, secrets = Outbox(site.ledger), {receiver.url: SECRET}
    first = deliver_due(outbox, "test-campaign", secrets, 8, now=T0)
    assert (first.delivered, first.failed, first.dead) == (0, 1, 0)
    (row,) = outbox.list()
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == T0 + dt.timedelta(seconds=5)
    assert row.last_error == "answered 500"
    assert deliver_due(outbox, "test-campaign", secrets, 8, now=T0 + dt.timedelta(seconds=4)).failed == 0  # not due yet
    assert deliver_due(outbox, "test-campaign", secrets, 8, now=T0 + dt.timedelta(seconds=5)).failed == 1
    assert outbox.list()[0].next_attempt_at == T0 + dt.timedelta(seconds=15)  # 5 s, then 10 s
    assert deliver_due(outbox, "test-campaign", secrets, 8, now=T0 + dt.timedelta(seconds=15)).delivered == 1
    (row,) = outbox.list()
    assert row.status == "delivered" and row.attempts == 3 and row.last_error is None
    assert len(receiver.posts) == 3 and len({post.headers["webhook-id"] for post in receiver.posts}) == 1  # one message id
    assert [verified(post)["data"] for post in receiver.posts] == [{"campaign": "test-campaign", "rule": "submissions",
                                                                    "files": [{"submission_id": 7}]}] * 3


def test_the_last_failure_is_dead_lettered_and_the_cli_lists_and_retries_it(
    receiver: Receiver, policy_file: Callable[..., Path], guarded: Callable[..., Guarded], ledger_url: str
) -> None:
    site = guarded(hooks(receiver, max_attempts=2), ledger_url=ledger_url)
    path = policy_file({"observe": hooks(receiver, max_attempts=2)})
    receiver.failures = 2
    record_events(site.ledger, load_policy(path), "subject.erased", subject="s-1", requested_by="operator", files=[])
    outbox = Outbox(site.ledger)
    assert deliver_due(outbox, "test-campaign", {receiver.url: SECRET}, 2, now=T0).failed == 1
    assert deliver_due(outbox, "test-campaign", {receiver.url: SECRET}, 2, now=T0 + dt.timedelta(minutes=1)).dead == 1

    runner = CliRunner()
    ledger_option = ["--ledger", site.ledger.url]
    listed = runner.invoke(main, ["events", "list", "--dead", *ledger_option])
    assert listed.exit_code == 0, listed.output
    (dead,) = json.loads(listed.output)
    assert dead["type"] == "subject.erased" and dead["status"] == "dead" and dead["attempts"] == 2
    assert dead["last_error"] == "answered 500"
    assert runner.invoke(main, ["events", "retry", *ledger_option]).exit_code == 2  # ids or --all
    retried = runner.invoke(main, ["events", "retry", str(dead["id"]), *ledger_option])
    assert retried.exit_code == 0 and retried.output == "1 event(s) queued again\n"
    delivered = runner.invoke(main, ["events", "deliver", "--policy", str(path), *ledger_option])
    assert delivered.output == "delivered 1, failed 0 (retried later), dead 0\n"
    assert verified(receiver.posts[-1])["data"]["subject_hash"] == hashlib.sha256(b"s-1").hexdigest()[:32]
    assert "s-1" not in receiver.posts[-1].body.decode()


def test_a_signature_that_does_not_match_is_refused_by_the_receiver(guarded: Callable[..., Guarded], receiver: Receiver,
                                                                     policy_file: Callable[..., Path]) -> None:
    site = guarded(hooks(receiver))
    record_events(site.ledger, load_policy(policy_file({"observe": hooks(receiver)})), "retention.deleted", rule="submissions", files=[])
    assert deliver_due(Outbox(site.ledger), "test-campaign", {receiver.url: SECRET}, 8).delivered == 1
    (post,) = receiver.posts
    assert verified(post)["type"] == "retention.deleted"
    other = "whsec_" + base64.b64encode(b"another secret of 32 bytes......").decode()
    with pytest.raises(WebhookVerificationError):
        verified(post, other)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(post.body.replace(b"submissions", b"unused_submissions"), post.headers)
    stale = {**post.headers, "webhook-timestamp": str(int(post.headers["webhook-timestamp"]) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(post.body, stale)


def test_two_workers_never_claim_the_same_row(guarded: Callable[..., Guarded], receiver: Receiver,
                                              policy_file: Callable[..., Path], ledger_url: str) -> None:
    site = guarded(hooks(receiver), ledger_url=ledger_url)
    policy = load_policy(policy_file({"observe": hooks(receiver)}))
    for index in range(3):
        record_events(site.ledger, policy, "retention.deleted", rule="submissions", files=[{"submission_id": index}])
    first = Outbox(site.ledger).claim(campaign="test-campaign", limit=2, lease=60, now=T0)
    second = Outbox(site.ledger).claim(campaign="test-campaign", limit=10, lease=60, now=T0)
    assert len(first) == 2 and len(second) == 1 and {row.id for row in first}.isdisjoint(row.id for row in second)
    assert Outbox(site.ledger).claim(campaign="test-campaign", now=T0 + dt.timedelta(seconds=30)) == []
    assert len(Outbox(site.ledger).claim(campaign="test-campaign", now=T0 + dt.timedelta(seconds=61))) == 3  # leases ran out
    assert Outbox(site.ledger).claim(campaign="other-campaign", now=T0 + dt.timedelta(hours=1)) == []


def test_a_redirect_is_a_failed_attempt_not_a_delivery(guarded: Callable[..., Guarded], receiver: Receiver,
                                                        policy_file: Callable[..., Path]) -> None:
    site = guarded(hooks(receiver))
    record_events(site.ledger, load_policy(policy_file({"observe": hooks(receiver)})), "retention.deleted", rule="submissions", files=[])
    receiver.redirect = True
    assert deliver_due(Outbox(site.ledger), "test-campaign", {receiver.url: SECRET}, 8).failed == 1
    assert len(receiver.posts) == 1 and Outbox(site.ledger).list()[0].last_error == "answered 302"  # the GET never came


def test_a_row_for_an_endpoint_no_longer_configured_is_dead_lettered(guarded: Callable[..., Guarded], receiver: Receiver,
                                                                     policy_file: Callable[..., Path]) -> None:
    site = guarded(hooks(receiver))
    record_events(site.ledger, load_policy(policy_file({"observe": hooks(receiver)})), "retention.deleted", rule="submissions", files=[])
    assert deliver_due(Outbox(site.ledger), "test-campaign", {}, 8).dead == 1
    assert Outbox(site.ledger).list()[0].last_error == "the endpoint is no longer in the policy" and receiver.posts == []


def test_a_policy_refuses_a_secret_that_is_not_whsec(policy_file: Callable[..., Path]) -> None:
    from ugc_guard.policy import PolicyError

    with pytest.raises(PolicyError) as caught:
        load_policy(policy_file({"observe": {"webhooks": [{"url": "https://example.org/hook", "secret": "hunter2"}]}}))
    assert "observe.webhooks[0].secret: the secret must be whsec_ followed by base64" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_events_still_in_memory_at_shutdown_go_to_the_outbox(guarded: Callable[..., Guarded], receiver: Receiver,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ugc_guard.observe.delivery import DeliveryWorker

    def queue_only(self: DeliveryWorker, events: list[Any]) -> None:  # the delivery thread never gets to them
        self._queue.extend(events)

    monkeypatch.setattr(DeliveryWorker, "put", queue_only)
    site = guarded(hooks(receiver))
    with site.client:  # lifespan startup ... shutdown
        assert accept_form(site.client).status_code == 303
        worker = events_for(site.guard.sites[0])
        assert worker is not None and worker.queued == 1 and Outbox(site.ledger).list() == []
    assert worker.queued == 0
    assert [(row.type, row.status, row.attempts) for row in Outbox(site.ledger).list()] == [("acceptance.recorded", "pending", 0)]
    assert receiver.posts == []  # delivered by the next process, or `ugc-guard events deliver`
