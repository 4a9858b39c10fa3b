"""multipart/form-data bodies streamed from disk, never read whole into memory."""

from __future__ import annotations

import io
import mimetypes
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

Part = tuple[str, str | bytes | Path | tuple[str, bytes]]
"""(field name, value): text or bytes are sent as is, a Path is a file streamed from disk, a
(file name, bytes) pair a file given in memory."""


class MultipartBody(io.RawIOBase):
    """A readable, rewindable multipart body of known length.

    Give it to `ApiClient.send` with ``headers={"Content-Type": body.content_type,
    "Content-Length": str(len(body))}``. Reading it streams the files chunk by chunk; it can be
    rewound (`seek(0)`) for a retry. `on_read` is called with the number of bytes read, for
    progress reports.
    """

    def __init__(self, parts: Sequence[Part], on_read: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.boundary: str = uuid.uuid4().hex
        self.content_type: str = f"multipart/form-data; boundary={self.boundary}"
        self._on_read = on_read
        # Each segment is bytes or a path, read in order.
        self._segments: list[bytes | Path] = []
        for name, value in parts:
            if '"' in name or "\r" in name or "\n" in name:
                raise ValueError(f"name: invalid multipart field name {name!r}")
            if isinstance(value, (Path, tuple)):
                given = value.name if isinstance(value, Path) else value[0]
                filename = given.replace('"', "%22").replace("\r", "").replace("\n", "")
                mime = mimetypes.guess_type(given)[0] or "application/octet-stream"
                head = (
                    f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: {mime}\r\n\r\n'
                )
                self._segments += [head.encode("utf-8"), value if isinstance(value, Path) else value[1], b"\r\n"]
            else:
                data = value.encode("utf-8") if isinstance(value, str) else value
                head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                self._segments += [head.encode("utf-8") + data + b"\r\n"]
        self._segments.append(f"--{self.boundary}--\r\n".encode())
        self._length = sum(s.stat().st_size if isinstance(s, Path) else len(s) for s in self._segments)
        self._index = 0
        self._offset = 0
        self._file: io.BufferedReader | None = None

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        """True: the body is read like a file."""
        return True

    def seekable(self) -> bool:
        """True: the body can be rewound to its start (to send it again)."""
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Rewind to the start (the only position supported)."""
        if (offset, whence) != (0, os.SEEK_SET):
            raise io.UnsupportedOperation("a multipart body can only be rewound to its start")
        self._close_file()
        self._index = 0
        self._offset = 0
        return 0

    def tell(self) -> int:
        """The number of bytes read so far."""
        done = sum(s.stat().st_size if isinstance(s, Path) else len(s) for s in self._segments[: self._index])
        return done + self._offset

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read the next bytes of the body into `buffer`; 0 at the end."""
        view = memoryview(buffer).cast("B")
        while self._index < len(self._segments):
            segment = self._segments[self._index]
            if isinstance(segment, bytes):
                n = min(len(view), len(segment) - self._offset)
                view[:n] = segment[self._offset : self._offset + n]
            else:
                if self._file is None:
                    self._file = open(segment, "rb")  # noqa: SIM115 - kept open across reads
                    self._file.seek(self._offset)
                n = self._file.readinto(view)
            if n:
                self._offset += n
                if self._on_read is not None:
                    self._on_read(n)
                return n
            self._close_file()
            self._index += 1
            self._offset = 0
        return 0

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        """Close the file being read, if any."""
        self._close_file()
        super().close()
