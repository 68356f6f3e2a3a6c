"""Files on this machine or through fsspec: inputs listed safely, outputs written
atomically (one file, or a folder as one unit).

>>> with atomic_output("memory://doc/a.txt") as f:
...     _ = f.write(b"one\\n")
>>> expand_inputs("memory://doc/a.txt")
['memory://doc/a.txt']
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from typing import IO, TypeVar

from .._errors import IntermtError, ReadError, WriteError

__all__ = [
    "DATA_SUFFIXES",
    "OUTPUT_MARK",
    "atomic_output",
    "expand_inputs",
    "is_local",
    "local_path",
    "locked",
    "reading",
    "safe_name",
    "source_problem",
    "staged_folder",
]

DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")


def is_local(url: str) -> bool:
    """Whether ``url`` names a file on this machine (a plain path or ``file://``)."""
    return "://" not in url or url.startswith("file://")


def local_path(url: str) -> str:
    """The path of a local ``url`` (``file://`` removed)."""
    return url.removeprefix("file://")


@contextlib.contextmanager
def atomic_output(url: str) -> Iterator[IO[bytes]]:
    """Open ``url`` for binary writing so that readers never see a partial file.

    A local target is written to a temporary file beside it and renamed into place
    when the block ends without error; a ``.gz`` target is compressed. Remote targets
    go through fsspec, whose object stores publish a file only when it is closed.
    """
    if not is_local(url):
        import fsspec

        with fsspec.open(url, "wb", compression="infer") as remote:
            yield remote
        return
    path = local_path(url)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    _clean_stale(folder, os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=_stage_prefix(path), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
                    yield zipped  # type: ignore[misc]
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _name_output(exc, url)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def expand_inputs(url: str) -> list[str]:
    """The data files a path names: itself, or the data files found under a folder.

    Folders are searched recursively for ``*.jsonl``, ``*.jsonl.gz``, ``*.json`` and
    ``*.parquet``; the result is sorted, so runs are repeatable.
    """
    if is_local(url):
        return _local_inputs(url)
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    if not fs.isdir(root):
        if not fs.exists(root):
            raise FileNotFoundError(f"no such file or folder: {url}")
        return [url]
    found = sorted(p for p in fs.find(root) if p.endswith(DATA_SUFFIXES))
    return [fs.unstrip_protocol(p) for p in found]


def _local_inputs(url: str) -> list[str]:
    """``expand_inputs`` of a local path: the found files' absolute paths. Links to
    folders are followed inside the folder given, each real folder once (a link loop
    ends); a link to a folder outside is listed itself, for ``source_problem`` to
    refuse."""
    root = local_path(url)
    if not os.path.isdir(root):
        if not os.path.exists(root):
            raise FileNotFoundError(f"no such file or folder: {url}")
        return [url]
    top = os.path.join(os.getcwd(), root)
    real_top = os.path.realpath(top)
    seen: set[str] = set()
    found: list[str] = []
    for folder, folders, names in os.walk(top, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen or os.path.commonpath([real, real_top]) != real_top:
            if real not in seen:
                found.append(folder)  # a link out of the folder: refused, not walked
            folders.clear()
            continue
        seen.add(real)
        folders.sort()  # the same route to each folder in every run
        found += (os.path.join(folder, name) for name in names if name.endswith(DATA_SUFFIXES))
    return sorted(found)


def source_problem(given: str, file: str) -> str | None:
    """Why the local data ``file`` found from the input ``given`` must not be read:
    a link that leads outside the folder given, or not a regular file (a pipe, a
    device, a socket would block or never end). None when it is safe, and for remote
    files.

    >>> source_problem("/dev", "/dev/zero")
    'not a regular file'
    """
    if not is_local(file):
        return None
    path = file.removeprefix("file://")
    base = given.removeprefix("file://")
    if os.path.isdir(base):
        real_base = os.path.realpath(base)
        if os.path.commonpath([real_base, os.path.realpath(path)]) != real_base:
            return "a link that leads outside the folder given"
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if stat.S_ISREG(mode) else "not a regular file"


OUTPUT_MARK = ".intermt-output"
"""The file that marks a folder as a multi-file output this library wrote."""


@contextlib.contextmanager
def staged_folder(url: str, *, replace_any: bool = False) -> Iterator[str]:
    """A folder to write a multi-file output into, swapped in at ``url`` as one unit
    when the block ends without error: readers see the old set or the new set, never
    a mix. A remote ``url`` is written in place. An existing folder is replaced only
    when it is empty or this library wrote it (``replace_any`` lifts the check);
    otherwise ``WriteError`` says so, and nothing of the user's is deleted.

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out")
    >>> with staged_folder(target) as stage:
    ...     open(os.path.join(stage, "a.txt"), "w").close()
    >>> sorted(os.listdir(target))
    ['.intermt-output', 'a.txt']
    """
    if not is_local(url):
        yield url
        return
    target = os.path.abspath(local_path(url))
    theirs = os.path.isdir(target) and os.listdir(target)
    if theirs and not replace_any and not os.path.exists(os.path.join(target, OUTPUT_MARK)):
        raise WriteError(
            f"{url} is a folder with other files in it; write the output to a new folder"
        )
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    _clean_stale(parent, os.path.basename(target))
    staging = tempfile.mkdtemp(prefix=_stage_prefix(target), dir=parent)
    try:
        yield staging
        with open(os.path.join(staging, OUTPUT_MARK), "w") as mark:
            mark.write("written by intermt-schema; replaced whole by the next run\n")
        os.chmod(staging, 0o777 & ~_umask())
        if os.path.exists(target):
            old = staging + ".old"
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _name_output(exc, url)
        raise


def _name_output(exc: BaseException, url: str) -> None:
    """A write that failed without naming its file (a full disk) names the output."""
    if isinstance(exc, OSError) and not exc.filename:
        exc.filename = url


def _stage_prefix(path: str) -> str:
    """Temporary names beside ``path`` carry the writer's pid: ``.name.PID.xxxx``."""
    return f".{os.path.basename(path)}.{os.getpid()}."


def _clean_stale(folder: str, name: str) -> None:
    """Remove the temporary files and folders that killed runs left beside ``name``
    (their writer's process is gone); a live writer's are left alone."""
    ours = re.compile(re.escape(f".{name}.") + r"(\d+)\.[a-z0-9_]{8}(?:\.tmp|\.old)?")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = ours.fullmatch(entry.name)
            if match is None or _alive(int(match.group(1))):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def locked(url: str) -> Iterator[None]:
    """Hold an exclusive lock for ``url`` (a local file) while the block runs, so that
    concurrent read-modify-write updates of one file (``dataset_info.json``) never
    lose an entry. Remote files and systems without ``fcntl`` are not locked."""
    if not is_local(url):
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = local_path(url)
    lock = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def safe_name(text: str, suffix: str) -> str:
    """A file name made from data (an id, a dimension): letters, digits, ``_`` and
    ``-`` only, and a short digest so that different texts never share a name. It can
    name no folder and no other place.

    >>> safe_name("../etc/x", ".html")
    'etc-x-2215be.html'
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] + f"-{digest}{suffix}"


T = TypeVar("T")


def reading(url: str, items: Iterator[T]) -> Iterator[T]:
    """``items``, with any failure to list, open or read ``url`` (a missing file, a
    folder, a cut gzip, a file that is not Parquet, a missing fsspec backend) raised
    as ``ReadError`` naming it. The readers' errors of their own pass through.

    >>> list(reading("x", iter([1, 2])))
    [1, 2]
    """
    try:
        yield from items
    except IntermtError:
        raise
    except Exception as exc:  # third-party failures become one documented type
        raise ReadError(f"cannot read {url}: {type(exc).__name__}: {exc}") from exc
