"""Webhooks end to end: a document's pipeline ends, deliver_webhook POSTs a signed payload to a
real HTTP server on loopback, which fails and then succeeds; private addresses are refused."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jobs.events import run_ended
from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.core.errors import PermanentError
from studyapp.webhooks import signing
from studyapp.webhooks.http import BlockedAddress, is_public_address, post
from studyapp.webhooks.models import WebhookDelivery
from studyapp.webhooks.services import InvalidWebhook, webhook_create
from tests.conftest import pdf_path
from tests.fixtures.make_pdfs import text_pdf
from tests.jobs.helpers import drain, release_scheduled

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with the statuses it is given, in order."""

    def __init__(self):
        self.statuses: list[int] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try again later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/studyapp"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES = False  # the receiver is on loopback, explicitly allowed
    settings.PIPELINE_AUTO_GRAPH = False
    server = Receiver()
    yield server
    server.close()


def upload(owner, data: bytes, name: str = "notes.pdf"):
    import io

    return document_upload(owner=owner, upload=io.BytesIO(data), filename=name)


def small_pdf() -> bytes:
    return pdf_path("pdflatex-4-pages.pdf").read_bytes()


def test_a_finished_pipeline_is_posted_signed_and_retried_until_the_receiver_takes_it(alice, receiver):
    """500 first (retried with backoff), then 200: delivered on the second attempt, signature valid."""
    webhook = webhook_create(owner=alice, url=receiver.url)
    receiver.statuses = [500, 200]
    document, _ = upload(alice, small_pdf())
    drain()
    delivery = WebhookDelivery.objects.get()
    run = JobRun.objects.get(kind="deliver_webhook")
    assert (run.status, run.attempts) == ("waiting", 1) and run.stage.startswith("retrying in ")
    assert delivery.response_status == 500 and "500" in run.error
    assert release_scheduled() == 1
    drain()
    delivery.refresh_from_db()
    run.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 200)
    assert (run.status, run.attempts) == ("succeeded", 2)
    assert len(receiver.requests) == 2
    request = receiver.requests[-1]
    assert request["path"] == "/hooks/studyapp"
    assert signing.verify(webhook.secret, request["body"], request["headers"][signing.HEADER])
    assert not signing.verify("another-secret", request["body"], request["headers"][signing.HEADER])
    assert request["headers"]["Studyapp-Event"] == "document.ready"
    assert request["headers"]["Content-Type"] == "application/json"
    payload = json.loads(request["body"])
    assert payload["event"] == "document.ready" and payload["outcome"] == "succeeded"
    assert payload["document"] == {"id": document.pk, "title": document.title, "status": "ready", "pages": 4,
                                   "error": ""}
    assert [(r["kind"], r["status"]) for r in payload["runs"]] == [("extract_document", "succeeded")]


def test_a_failed_pipeline_is_posted_with_its_error(alice, receiver):
    """An unreadable upload ends the pipeline failed: document.failed with the student's message."""
    webhook_create(owner=alice, url=receiver.url)
    upload(alice, text_pdf([["x"]])[:200] + b"garbage", name="broken.pdf")
    drain()
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["event"] == "document.failed" and payload["outcome"] == "failed"
    assert payload["document"]["status"] == "failed" and payload["document"]["error"]


def test_the_event_waits_for_the_whole_pipeline_and_goes_to_every_webhook_once(alice, receiver, settings):
    """Extraction, graph, quiz: one event, after the last, to each of the owner's two webhooks."""
    settings.PIPELINE_AUTO_GRAPH = True
    webhook_create(owner=alice, url=receiver.url)
    webhook_create(owner=alice, url=receiver.url + "?second")
    upload(alice, small_pdf())
    drain()
    assert WebhookDelivery.objects.count() == 2
    assert {r["path"] for r in receiver.requests} == {"/hooks/studyapp", "/hooks/studyapp?second"}
    runs = json.loads(receiver.requests[0]["body"])["runs"]
    assert [(r["kind"], r["status"]) for r in runs] == [("extract_document", "succeeded"),
                                                        ("generate_graph", "succeeded"),
                                                        ("create_quiz", "succeeded")]
    for run in JobRun.objects.exclude(kind="deliver_webhook"):
        run_ended(run)  # noticed again (another process, a retry of the hook): no second event
    assert WebhookDelivery.objects.count() == 2


def test_an_owner_without_webhooks_gets_no_deliveries(alice, bob, receiver):
    """Bob's webhook hears nothing of Alice's documents."""
    webhook_create(owner=bob, url=receiver.url)
    upload(alice, small_pdf())
    drain()
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_a_receiver_that_answers_404_fails_the_delivery_at_once(alice, receiver):
    """A 4xx is permanent: one attempt, the delivery failed with the answer, a dead letter."""
    webhook_create(owner=alice, url=receiver.url)
    receiver.statuses = [404]
    upload(alice, small_pdf())
    drain()
    delivery = WebhookDelivery.objects.get()
    run = JobRun.objects.get(kind="deliver_webhook")
    assert (run.status, run.attempts) == ("failed", 1)
    assert (delivery.status, delivery.response_status) == ("failed", 404)
    assert "404" in delivery.error


def test_loopback_is_refused_when_private_addresses_are_blocked(alice, receiver, settings):
    """With the production setting, 'localhost' resolves to 127.0.0.1 and nothing is sent."""
    settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES = True
    webhook_create(owner=alice, url=receiver.url.replace("127.0.0.1", "localhost"))
    upload(alice, small_pdf())
    drain()
    run = JobRun.objects.get(kind="deliver_webhook")
    delivery = WebhookDelivery.objects.get()
    assert (run.status, run.attempts) == ("failed", 1)
    assert delivery.status == "failed" and "private or local address" in delivery.error
    assert receiver.requests == []


@pytest.mark.parametrize("address,public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1%eth0", False), ("fc00::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:10.0.0.1", False), ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True),
])
def test_only_public_addresses_count_as_public(address, public):
    """Loopback, private, link-local (cloud metadata), shared, multicast and mapped forms are not."""
    assert is_public_address(address) is public


def test_the_resolved_address_is_checked_not_the_name(receiver):
    """A name is judged by what it resolves to: localhost is loopback whatever it is called."""
    with pytest.raises(BlockedAddress, match="127.0.0.1"):
        post(receiver.url.replace("127.0.0.1", "localhost"), b"{}", {}, timeout=2, allow_private=False)
    assert post(receiver.url, b"{}", {}, timeout=2, allow_private=True).status == 200


def test_signatures_expire_and_cover_the_exact_body():
    """A changed body or an old timestamp does not verify."""
    header = signing.sign("s3cret", b'{"a":1}', timestamp=1_000_000)
    assert signing.verify("s3cret", b'{"a":1}', header, now=1_000_010)
    assert not signing.verify("s3cret", b'{"a":2}', header, now=1_000_010)
    assert not signing.verify("s3cret", b'{"a":1}', header, now=1_000_000 + signing.TOLERANCE_S + 1)
    assert not signing.verify("s3cret", b'{"a":1}', "garbage")


def test_a_webhook_url_must_be_http_or_https(alice):
    """ftp:// and bare words are refused with a clear message."""
    for url in ("ftp://example.com/hook", "not a url"):
        with pytest.raises(InvalidWebhook, match="not an http"):
            webhook_create(owner=alice, url=url)
    assert isinstance(InvalidWebhook("x"), PermanentError)
