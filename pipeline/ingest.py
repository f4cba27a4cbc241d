"""Stage 0: find the input files and read their bytes, one clear error record per file that cannot be read.

:func:`iter_files` walks the PATHs given on the command line (files and directories, recursively, in a
stable sorted order) and yields them one at a time, so a corpus of millions of files never sits in
memory. :func:`read_source` reads one of them under a size limit and returns either a
:class:`SourceFile` (bytes and their SHA-256, the document's identity) or an :class:`IngestError`;
it never raises for a bad file, so one broken input cannot stop a batch.

>>> err = read_source("/nonexistent/report.txt")
>>> (err.stage, err.message)
('read', 'no such file or directory')
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

#: Directory names never descended into (version control, caches, virtualenvs).
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".ipynb_checkpoints"})


@dataclass(frozen=True, slots=True)
class IngestError:
    """Why one input was not loaded: the row written to the ``ingest_errors`` table."""

    path: str
    stage: str  # read | decode | normalize | meta | paragraphs | extract | claims | write | worker
    message: str
    sha256: str | None = None
    at: str = ""

    def to_row(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "stage": self.stage, "message": self.message,
                "at": self.at or now_iso()}


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The bytes of one input file and their SHA-256 (the document's identity in the database)."""

    path: str
    data: bytes
    sha256: str


def now_iso() -> str:
    """The current UTC time as ISO text, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 hex digits (a document's identity).

    >>> sha256_hex(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def human_size(n: int) -> str:
    """A byte count for messages.

    >>> human_size(20 * 1024 * 1024), human_size(100)
    ('20.0 MB', '100 bytes')
    """
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _os_message(e: OSError) -> str:
    if e.errno == errno.ENOENT:
        return "no such file or directory"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    return (e.strerror or str(e)).lower()


def iter_files(paths: Iterable[str | os.PathLike]) -> Iterator[str]:
    """Every file under ``paths`` (a file given directly is yielded as is), sorted within each directory.

    Paths are kept as given (relative stays relative), normalized so that ``corpus/`` and ``./corpus``
    record the same path. Hidden entries (``.name``) and tool directories (:data:`SKIP_DIRS`) inside a
    directory are skipped;
    a path given explicitly is always yielded, so that :func:`read_source` can report why it is unusable
    (missing, a dangling link, a FIFO). Symbolic links to directories met inside a walk are not
    followed (no cycles); links to files are read like the files.
    Nothing is collected: the walk streams.
    """
    for p in paths:
        p = os.path.normpath(os.fspath(p))  # "corpus/", "./corpus" and "corpus" name the same files
        if os.path.isdir(p):  # a link to a directory given by name is followed; links met in a walk are not
            yield from _walk(p)
        else:
            yield p


def _walk(top: str) -> Iterator[str]:
    try:
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        # An unreadable directory: yield it so read_source reports why (it fails the same way).
        yield top
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if entry.name not in SKIP_DIRS:
                yield from _walk(entry.path)
        else:
            yield entry.path


def count_files(paths: Iterable[str | os.PathLike]) -> int:
    """How many inputs :func:`iter_files` will yield (a cheap pre-pass for a progress bar's total)."""
    return sum(1 for _ in iter_files(paths))


def read_source(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile | IngestError:
    """Read one input file; an :class:`IngestError` (stage ``read``) instead of raising when it cannot be.

    Refused before any byte is read: missing paths, dangling symbolic links, directories, FIFOs,
    sockets and devices (opening a FIFO would block the batch), and files over ``max_bytes``. The read
    itself is capped at ``max_bytes + 1`` bytes, so a file growing while it is read cannot exhaust memory.
    """
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return IngestError(path, "read", f"dangling symbolic link (target {os.readlink(path)!r} does not exist)")
        return IngestError(path, "read", "no such file or directory")
    except OSError as e:
        return IngestError(path, "read", _os_message(e))
    if stat.S_ISDIR(st.st_mode):
        try:
            os.listdir(path)
        except OSError as e:
            return IngestError(path, "read", f"directory cannot be listed: {_os_message(e)}")
        return IngestError(path, "read", "is a directory (give it as a PATH to ingest its files)")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        return IngestError(path, "read", f"not a regular file: {kind}")
    if st.st_size > max_bytes:
        return IngestError(path, "read", f"file is {human_size(st.st_size)}, over the size limit of "
                                         f"{human_size(max_bytes)} (raise it with --max-bytes)")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        return IngestError(path, "read", _os_message(e))
    if len(data) > max_bytes:
        return IngestError(path, "read", f"file grew over the size limit of {human_size(max_bytes)} while being read")
    if not data:
        return IngestError(path, "read", "empty file (0 bytes)", sha256=sha256_hex(data))
    return SourceFile(path, data, sha256_hex(data))
