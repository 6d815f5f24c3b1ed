"""What Sharely accepts as an upload: its documented allow-list of file types, and the content
type an upload goes out with. Checked before sending, so a refused type never costs a request."""

from __future__ import annotations

import os

from .._exceptions import ValidationError
from .._validate import non_empty_str

__all__ = ["ALLOWED_UPLOAD_TYPES", "content_type_for"]

#: The documented upload allow-list: file extension -> content type.
ALLOWED_UPLOAD_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".zip": "application/zip",
    ".json": "application/json",
}
_ALLOWED_MIME = frozenset(ALLOWED_UPLOAD_TYPES.values()) | {
    "application/x-zip-compressed",
    "audio/x-wav",
    "audio/wave",
}


def content_type_for(filename: str, content_type: str | None = None) -> str:
    """The upload's content type: ``content_type`` if given, else from the file name's extension;
    either must be on Sharely's documented allow-list (ValidationError otherwise)."""
    if content_type is not None:
        base = non_empty_str(content_type, "content_type").split(";")[0].strip().lower()
        if base not in _ALLOWED_MIME:
            raise ValidationError(
                f"content_type {content_type!r} is not accepted by Sharely; allowed: "
                f"{', '.join(sorted(_ALLOWED_MIME))}",
                field="content_type",
            )
        return base
    ext = os.path.splitext(filename)[1].lower()
    mime = ALLOWED_UPLOAD_TYPES.get(ext)
    if mime is None:
        raise ValidationError(
            f"cannot upload {filename!r}: Sharely accepts "
            f"{', '.join(sorted(ALLOWED_UPLOAD_TYPES))} files",
            field="file",
        )
    return mime
