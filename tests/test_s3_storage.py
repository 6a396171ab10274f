"""Uploads on S3-compatible storage: the upload is stored in the bucket and a worker extracts it
by reading it back through Django's storage (moto's in-process S3, no network)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

moto = pytest.importorskip("moto", reason="moto (a dev dependency) is not installed")
import boto3  # noqa: E402

from jobs.pipelines import document_upload  # noqa: E402
from studyapp.documents.cleanup import orphaned_files  # noqa: E402
from studyapp.documents.models import DocumentPage  # noqa: E402
from tests.conftest import pdf_path  # noqa: E402
from tests.jobs.helpers import drain  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "studyapp-test-media"


@pytest.fixture
def s3_storage(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": BUCKET, "location": "media", "default_acl": None, "file_overwrite": False},
        }}
        yield boto3.client("s3", region_name="us-east-1")


def test_an_upload_goes_to_the_bucket_and_is_extracted_from_there(alice, s3_storage, settings):
    """The PDF is an object in the bucket; the extraction job reads it back through storage."""
    settings.PIPELINE_AUTO_GRAPH = False
    with pdf_path("pdflatex-4-pages.pdf").open("rb") as fh:
        document, run = document_upload(owner=alice, upload=fh, filename="notes.pdf")
    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"media/{document.file.name}"]
    drain()
    document.refresh_from_db()
    run.refresh_from_db()
    assert (document.status, run.status) == ("ready", "succeeded")
    assert DocumentPage.objects.filter(document=document).count() == 4
    assert orphaned_files(older_than=timezone.now() + timedelta(days=1)) == []
    s3_storage.put_object(Bucket=BUCKET, Key="media/documents/2020/01/orphan.pdf", Body=b"%PDF")
    assert orphaned_files(older_than=timezone.now() + timedelta(days=1)) == ["documents/2020/01/orphan.pdf"]
