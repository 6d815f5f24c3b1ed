"""Multipart/form-data uploads: where a file's bytes come from, and the body that carries them.

Resources hand the transport a ``content_factory`` built from :func:`multipart_body`: each attempt
gets a fresh body (a path is opened again, a caller's file rewound), so a retry resends the whole
file. Files are streamed in chunks by aiohttp, never read whole into memory. This module is the
only one besides the transport that builds aiohttp objects; it knows no route.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Union

import aiohttp
from aiohttp import payload as aiohttp_payload

from ._exceptions import ClientStateError, ValidationError

__all__ = ["BorrowedFile", "FileInput", "Upload", "multipart_body"]

#: What an upload accepts: a path, bytes, or a binary file object.
FileInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


class BorrowedFile(io.RawIOBase):
    """A caller's file object, read by aiohttp without being closed by it."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        return bytes(data) if data is not None else b""

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return bool(getattr(self._raw, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:  # the caller owns the file
        pass


class Upload:
    """Where an upload's bytes come from; :meth:`payload` makes a fresh body part for each
    attempt. ``content_type_for(filename, content_type)`` decides (and checks) the part's
    content type. Raises ValidationError for a missing path, bytes without a ``filename``, a
    text-mode or nameless file object, or anything else."""

    def __init__(
        self,
        file: Any,
        filename: str | None,
        content_type: str | None,
        content_type_for: Callable[[str, str | None], str],
    ) -> None:
        self.path: Path | None = None
        self.data: bytes | memoryview | None = None
        self.stream: IO[bytes] | None = None
        self.start = 0
        self.seekable = True
        self.opened: list[IO[bytes]] = []
        self.sent = 0
        if isinstance(file, (str, os.PathLike)):
            path = Path(os.fspath(file))
            if not path.is_file():
                raise ValidationError(f"no such file: {str(path)!r}", field="file")
            self.path = path
            name = filename or path.name
        elif isinstance(file, (bytes, bytearray, memoryview)):
            if filename is None:
                raise ValidationError(
                    "uploading bytes needs filename=... (its extension sets the content type)",
                    field="filename",
                )
            self.data = bytes(file) if isinstance(file, bytearray) else file
            name = filename
        elif hasattr(file, "read"):
            name = self._borrow(file, filename)
        else:
            raise ValidationError(
                f"file must be a path, bytes or a binary file object, got {type(file).__name__}",
                field="file",
            )
        self.filename = os.path.basename(name) or name
        self.content_type = content_type_for(self.filename, content_type)
        # RFC 7578 / HTML: the name goes as UTF-8, only '"', CR and LF percent-encoded.
        self.wire_filename = (
            self.filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        )

    def _borrow(self, file: Any, filename: str | None) -> str:
        if isinstance(file, io.TextIOBase):
            raise ValidationError("open the file in binary mode ('rb')", field="file")
        self.stream = file
        raw_name = getattr(file, "name", None)
        name = filename or (os.path.basename(raw_name) if isinstance(raw_name, str) else "")
        if not name:
            raise ValidationError(
                "this file object has no name: pass filename=...", field="filename"
            )
        try:
            self.seekable = bool(file.seekable()) if hasattr(file, "seekable") else False
            self.start = file.tell() if self.seekable else 0
        except (OSError, ValueError):
            self.seekable = False
        return name

    @property
    def resendable(self) -> bool:
        """Whether a retry can send the body again (a caller's stream must be seekable)."""
        return self.stream is None or self.seekable

    def payload(self) -> aiohttp_payload.Payload:
        if self.path is not None:
            fh = open(self.path, "rb")  # noqa: SIM115 (closed by aiohttp or by close_all)
            self.opened.append(fh)
            return aiohttp_payload.BufferedReaderPayload(fh, content_type=self.content_type)
        if self.data is not None:
            # Through BytesIO (which shares the buffer of immutable bytes): written in chunks,
            # so the socket layer never buffers a second copy of a large body.
            return aiohttp_payload.BytesIOPayload(
                io.BytesIO(self.data), content_type=self.content_type
            )
        assert self.stream is not None
        if self.sent:
            if not self.seekable:
                raise ClientStateError(
                    "the upload must be sent again but its file object cannot be rewound; "
                    "pass a path or a seekable file"
                )
            self.stream.seek(self.start)
        self.sent += 1
        borrowed: IO[bytes] = BorrowedFile(self.stream)  # type: ignore[assignment]
        return aiohttp_payload.IOBasePayload(borrowed, content_type=self.content_type)

    def close_all(self) -> None:
        """Close the files this upload opened (never a caller's file)."""
        for fh in self.opened:
            with contextlib.suppress(OSError):
                fh.close()
        self.opened.clear()


def multipart_body(
    fields: Sequence[tuple[str, str]], upload: Upload, *, name: str = "file"
) -> Callable[[], aiohttp.MultipartWriter]:
    """A factory of form-data bodies: the text ``fields``, then the file as part ``name``.
    Called once per attempt."""

    def body() -> aiohttp.MultipartWriter:
        writer = aiohttp.MultipartWriter("form-data")
        for field, value in fields:
            part = writer.append(value)
            part.set_content_disposition("form-data", name=field)
        part = upload.payload()
        # aiohttp's default would percent-encode every non-token character of the file name.
        part.set_content_disposition(
            "form-data", quote_fields=False, name=name, filename=upload.wire_filename
        )
        writer.append_payload(part)
        return writer

    return body
