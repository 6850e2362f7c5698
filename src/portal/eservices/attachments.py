"""Attachments to the e-services' forms: checked, stored outside the web root, served only to those
allowed.

A file is accepted only if its content is a PDF, JPEG or PNG (read from the bytes, never from the
name or the browser's claim) and not larger than ``PORTAL_ATTACHMENT_MAX_BYTES``. An upload over
the limit is skipped as it arrives (``LimitedUploadHandler``), so it never fills the disk. The file
is stored under ``PORTAL_UPLOAD_DIR`` with a random name of its own; the original name is kept
only as text. Until the form is sent an attachment belongs to its uploader's draft and can be
removed; once sent it belongs to the submission and is never changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError
from portal.employers.models import Employer
from portal.eservices.models import Attachment, Draft, Submission
from portal.identity.models import Person

#: At most this many attachments to one submission.
MAX_ATTACHMENTS = 10
_PDF_END_WINDOW = 2048
_IMAGE_FORMATS = {"JPEG": Attachment.ContentType.JPEG, "PNG": Attachment.ContentType.PNG}


class AttachmentRefused(ApplicationError):
    """The file cannot be accepted (the message says why, in words for the person)."""

    status = 422  # type: ignore[assignment]
    code = "attachment-refused"


class LimitedUploadHandler(FileUploadHandler):
    """Counts each uploaded file's bytes as they arrive and skips a file as soon as it passes
    ``PORTAL_ATTACHMENT_MAX_BYTES``: the rest of it is read and thrown away, never stored. The
    names of skipped files are kept on the request for the view to explain."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            skipped = getattr(self.request, "oversized_uploads", [])
            skipped.append(self.file_name)
            self.request.oversized_uploads = skipped  # type: ignore[union-attr]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def sniff(stream: IO[bytes]) -> str | None:
    """The content type of a PDF, JPEG or PNG, read from the bytes; ``None`` for anything else
    (including an image that does not decode or a PDF without its end marker)."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - _PDF_END_WINDOW))
        tail = stream.read()
        stream.seek(0)
        return Attachment.ContentType.PDF if b"%%EOF" in tail else None
    if not head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return None
    try:
        with Image.open(stream) as image:
            kind = _IMAGE_FORMATS.get(image.format or "")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        stream.seek(0)
    return kind


def clean_name(name: str) -> str:
    """The original file name as safe text: no path, no control characters, at most 200."""
    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", name).strip(" .")
    return name[:200] or _("bilaga")


def stored_path(attachment: Attachment) -> Path:
    return Path(settings.UPLOAD_DIR) / str(attachment.employer_id) / attachment.public_id.hex


def _write(path: Path, upload: UploadedFile[bytes]) -> str:
    """Write the file (through a temporary name, so a half-written file never has the real name)
    and return its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    partial = path.with_suffix(".part")
    with partial.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return digest.hexdigest()


def attachment_store(
    *,
    person: Person,
    employer: Employer,
    eservice: str,
    draft: Draft | None,
    upload: UploadedFile[bytes],
    request: HttpRequest | None = None,
) -> Attachment:
    """Check an uploaded file and keep it with the person's draft (none in the API: it is named
    in the submission). Raises ``AttachmentRefused``
    (with the reason) for a file of another type, an empty or too large one, or one too many; a
    refused file is recorded in the audit log and nothing of it is kept."""
    name = clean_name(upload.name or "")
    reason = None
    why = ""  # for the audit log, which never holds the file's name (it may hold a person's)
    if draft is not None and Attachment.objects.filter(draft=draft).count() >= MAX_ATTACHMENTS:
        why = "too-many"
        reason = _("Du kan bifoga högst %(count)d filer.") % {"count": MAX_ATTACHMENTS}
    elif not upload.size:
        why = "empty"
        reason = _("Filen %(name)s är tom.") % {"name": name}
    elif upload.size > settings.ATTACHMENT_MAX_BYTES:
        why = "too-large"
        reason = too_large_message(name)
    content_type = None if reason or upload.file is None else sniff(upload.file)
    if reason is None and content_type is None:
        why = "not-pdf-jpeg-png"
        reason = _(
            "Filen %(name)s är inte en PDF, JPEG eller PNG. Spara den i något av de formaten och "
            "försök igen."
        ) % {"name": name}
    if reason is not None or content_type is None:
        reason = reason or ""
        with transaction.atomic():
            audit.record(
                EventType.ATTACHMENT_REFUSE,
                actor=person,
                request=request,
                employer=employer,
                object_type="attachment",
                data={"eservice": eservice, "size": upload.size or 0, "reason": why},
            )
        raise AttachmentRefused(reason)
    attachment = Attachment(
        employer=employer,
        eservice=eservice,
        uploaded_by=person,
        draft=draft,
        name=name,
        content_type=content_type,
        size=upload.size or 0,
    )
    path = stored_path(attachment)
    attachment.sha256 = _write(path, upload)
    try:
        with transaction.atomic():
            attachment.save()
            audit.record(
                EventType.ATTACHMENT_UPLOADED,
                actor=person,
                request=request,
                employer=employer,
                object_type="attachment",
                object_id=str(attachment.public_id),
                data={
                    "eservice": eservice,
                    "type": content_type,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def too_large_message(name: str) -> str:
    return _("Filen %(name)s är större än %(limit)s MB.") % {
        "name": name,
        "limit": f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):.0f}",
    }


def attachment_remove(
    *, person: Person, draft: Draft, public_id: Any, request: HttpRequest | None = None
) -> bool:
    """Remove an attachment from the person's own draft (never one already sent)."""
    attachment = Attachment.objects.filter(
        public_id=public_id, draft=draft, uploaded_by=person, submission__isnull=True
    ).first()
    if attachment is None:
        return False
    with transaction.atomic():
        attachment.delete()
        audit.record(
            EventType.ATTACHMENT_REMOVED,
            actor=person,
            request=request,
            employer=draft.employer,
            object_type="attachment",
            object_id=str(public_id),
            data={"eservice": draft.eservice},
        )
        transaction.on_commit(lambda: stored_path(attachment).unlink(missing_ok=True))
    return True


def draft_attachments(draft: Draft | None) -> list[Attachment]:
    if draft is None or draft.pk is None:
        return []
    return list(Attachment.objects.filter(draft=draft).order_by("uploaded_at", "id"))


def attach_to_submission(
    *, submission: Submission, content: dict[str, Any], corrects: Submission | None
) -> None:
    """Make the attachments the content names part of the submission (in its transaction).
    Allowed are the sender's own unsent uploads for this employer and e-service, and, for a
    correction or withdrawal, the ones already sent in the same case."""
    ids = [item["id"] for item in content.get("attachments") or []]
    if not ids:
        return
    allowed = Q(submission__isnull=True, uploaded_by=submission.submitted_by)
    if corrects is not None:
        allowed |= Q(submission__case_id=corrects.case_id)
    found = Attachment.objects.filter(
        allowed,
        public_id__in=ids,
        employer=submission.employer,
        eservice=submission.eservice,
    )
    if found.count() != len(set(ids)):
        raise AttachmentRefused(_("En bilaga finns inte längre. Ladda upp den igen."))
    found.filter(submission__isnull=True).update(submission=submission, draft=None)


def attachments_purge(*, cutoff: datetime) -> int:
    """Remove attachments never sent whose draft is gone or untouched since ``cutoff``, and
    their files. Returns how many."""
    stale = Attachment.objects.filter(submission__isnull=True, uploaded_at__lt=cutoff).filter(
        Q(draft__isnull=True) | Q(draft__updated_at__lt=cutoff)
    )
    paths = [stored_path(attachment) for attachment in stale]
    count, _by_model = stale.delete()
    transaction.on_commit(lambda: _unlink(paths))
    return count


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def readable_attachment(
    *, person: Person, employer: Employer, eservice: str, public_id: Any
) -> Attachment | None:
    """An attachment the person may open, once their access to the e-service is established:
    one sent with a submission of the employer in the e-service, or their own unsent upload."""
    return (
        Attachment.objects.filter(employer=employer, eservice=eservice, public_id=public_id)
        .filter(Q(submission__isnull=False) | Q(uploaded_by=person))
        .first()
    )


def unsent_attachments(
    *, person: Person, employer: Employer, eservice: str, public_ids: list[Any]
) -> list[Attachment]:
    """The person's own uploads among ``public_ids`` not yet part of a submission."""
    return list(
        Attachment.objects.filter(
            public_id__in=public_ids,
            uploaded_by=person,
            employer=employer,
            eservice=eservice,
            submission__isnull=True,
        )
    )
