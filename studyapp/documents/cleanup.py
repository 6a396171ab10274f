"""Files in storage that no Document refers to any more (a deleted document, an upload whose
transaction rolled back). Read through Django's storage API, so it works on S3 as on a folder."""

from __future__ import annotations

from datetime import datetime

from django.core.files.storage import Storage, default_storage

from studyapp.documents.models import Document

UPLOAD_ROOT = "documents"


def orphaned_files(*, older_than: datetime, storage: Storage | None = None) -> list[str]:
    """Names under the upload folder that no Document refers to, last modified before `older_than`
    (a file being uploaded right now is saved before its Document row commits)."""
    storage = storage or default_storage
    referenced = set(Document.objects.values_list("file", flat=True))
    orphans = []
    for name in _walk(storage, UPLOAD_ROOT):
        if name in referenced:
            continue
        try:
            if storage.get_modified_time(name) >= older_than:
                continue
        except (NotImplementedError, OSError):
            continue  # cannot tell its age: keep it
        orphans.append(name)
    return orphans


def orphaned_files_delete(*, older_than: datetime, storage: Storage | None = None) -> int:
    storage = storage or default_storage
    names = orphaned_files(older_than=older_than, storage=storage)
    for name in names:
        storage.delete(name)
    return len(names)


def _walk(storage: Storage, folder: str):
    try:
        folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _walk(storage, f"{folder}/{sub}")
