"""Where a file that data names may be read from: a safe relative path (POSIX, not
absolute, no ``..`` out) that stays under its root once symlinks are resolved, and a
regular file when it is opened. Every local file opened on behalf of data passes here.

>>> path_problem("images/a.png") is None
True
>>> path_problem("../secret.png")[0]
'image.escapes_root'
"""

from __future__ import annotations

import errno
import functools
import itertools
import operator
import os
import posixpath
import re
import stat
import time
from typing import BinaryIO

from ..schema._structs import ImageRef, MediaRef

__all__ = [
    "NotRegularFile",
    "all_inside",
    "escapes_root",
    "is_local_root",
    "lacks_source",
    "local_file",
    "open_regular",
    "path_problem",
    "read_under_root",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
"""A path of these characters, without ``..``, is certainly safe (the common case)."""
_PLAIN_LINES = re.compile(rf"{_PLAIN.pattern}(?:\n{_PLAIN.pattern})*")


def path_problem(path: str) -> tuple[str, str] | None:
    """The rule a stored image path breaks, as ``(code, message)``, or None.

    A stored path is POSIX, relative, and stays inside the dataset root.

    >>> path_problem("/etc/passwd")[0]
    'image.absolute_path'
    >>> path_problem("https://x/y.png")[0]
    'image.path_is_url'
    """
    if _PLAIN.fullmatch(path) and ".." not in path:
        return None
    if path == "":
        return "image.no_source", "the image path is empty"
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return "image.absolute_path", f"image path {path!r} is absolute; store it relative"
    if _URL.match(path):
        return "image.path_is_url", f"image path {path!r} is a URL; put URLs in 'uri'"
    if "\\" in path:
        return "image.not_posix", f"image path {path!r} uses backslashes; use '/'"
    if "\x00" in path:
        return "image.not_posix", f"image path {path!r} holds a NUL byte"
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../"):
        return "image.escapes_root", f"image path {path!r} escapes the dataset root"
    return None


def local_file(root: str, path: str) -> tuple[str | None, tuple[str, str] | None]:
    """The containment rule for a local file whose path is handed on (copied, linked,
    read by another reader): ``root/path`` must be a safe relative path that, once
    symlinks are resolved, stays under ``root`` and names a regular file (not a
    folder, pipe, socket or device). Returns ``(real path, None)``, or ``(None, (code,
    message))``. Reading a file goes through :func:`read_under_root`, which asks the
    open file what it is.

    >>> local_file("/", "../etc/passwd")[1][0]
    'image.escapes_root'
    """
    full, problem = _resolved(root, path)
    if problem:
        return None, problem
    try:
        mode = os.stat(full).st_mode
    except OSError:
        return None, _missing(path)
    if not stat.S_ISREG(mode):
        return None, _not_regular(path)
    return full, None


def _missing(path: str) -> tuple[str, str]:
    return "image.missing", f"image file {path!r} not found under the images root"


def _not_regular(path: str) -> tuple[str, str]:
    return "image.missing", f"image path {path!r} is not a regular file"


def escapes_root(root: str, path: str) -> tuple[str, str] | None:
    """The problem when ``path`` is unsafe, or leads outside the local folder ``root``
    through a symlink; None when it stays inside (whether or not the file exists)."""
    return _resolved(root, path)[1]


def _resolved(root: str, path: str) -> tuple[str, tuple[str, str] | None]:
    """``root/path`` with symlinks resolved, and the problem if it is unsafe or leads
    outside ``root``."""
    problem = path_problem(path)
    if problem:
        return "", problem
    folder_path, _, name = path.rpartition("/")  # path_problem: POSIX
    folder = _Folder.known(root, folder_path, int(time.monotonic() / FRESH_SECONDS))
    full = f"{folder.real}/{name}"
    inside = folder.inside
    if folder.holds_link(name):
        full = os.path.realpath(full)
        inside = _under(full, folder.root)
    if not inside:
        return full, ("image.escapes_root", f"image path {path!r} links outside the dataset root")
    return full, None


def lacks_source(ref: ImageRef | MediaRef) -> bool:
    """Whether a file reference has neither bytes, a path nor a uri (``image.no_source``)."""
    return ref.bytes is None and not ref.path and not ref.uri


def all_inside(root: str, refs: list[ImageRef | MediaRef]) -> bool:
    """Whether every reference has a source and a path ``escapes_root`` passes, asked
    of all at once (one search for plain paths, one look per folder); False: ask each.

    >>> all_inside(os.getcwd(), [ImageRef(path="a/b.png"), ImageRef(uri="https://x")])
    True
    >>> all_inside(os.getcwd(), [ImageRef(path="a/../../b.png")])
    False
    """
    paths = [ref.path for ref in refs if ref.path]
    if len(paths) < len(refs) and any(map(lacks_source, refs)):
        return False
    joined = "\n".join(paths)  # a path holding a newline is read as two, both plain
    if ".." in joined or (paths and not _PLAIN_LINES.fullmatch(joined)):
        return False
    split = list(map(str.rpartition, paths, itertools.repeat("/")))
    epoch = int(time.monotonic() / FRESH_SECONDS)
    for folder in set(map(operator.itemgetter(0), split)):
        known = _Folder.known(root, folder, epoch)
        if not known.inside:
            return False
        if known.links != frozenset():  # links in it, or not listed yet: ask by name
            names = [name for held, _, name in split if held == folder]
            if any(map(known.holds_link, names)):
                return False
    return True


def _under(path: str, real_root: str) -> bool:
    return path == real_root or path.startswith(real_root.rstrip(os.sep) + os.sep)


def is_local_root(root: str) -> bool:
    """Whether ``root`` is a local folder (a plain path or ``file://``)."""
    return "://" not in root or root.startswith("file://")


FRESH_SECONDS = 2.0
"""What validation learns of a folder (its real path, which names in it are links)
is used for at most this long, so a long-lived process sees the file system change."""


class _Folder:
    """A folder under a root: its real path, whether that stays under the root's, and
    which names in it are symlinks, asked of the file system one name at a time
    (``lstat``) until the folder has been asked about often, then listed once if it
    is not huge, keeping only the links' names (few, whatever the folder's size).

    >>> folder = _Folder(os.getcwd(), "")
    >>> folder.inside, folder.holds_link("no such name")
    (True, False)
    """

    LIST_AFTER = 256
    LIST_AT_MOST = 1 << 16

    def __init__(self, root: str, folder: str) -> None:
        self.root = os.path.realpath(root.removeprefix("file://"))
        self.real = os.path.realpath(f"{self.root}/{folder}") if folder else self.root
        self.inside = _under(self.real, self.root)
        self.asked = 0
        self.links: frozenset[str] | None = None

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def known(root: str, folder: str, epoch: int) -> _Folder:
        """``folder`` of ``root`` as learnt in this ``epoch`` (see :data:`FRESH_SECONDS`)."""
        return _Folder(root, folder)

    def holds_link(self, name: str) -> bool:
        if self.links is not None:
            return name in self.links
        self.asked += 1
        if self.asked == self.LIST_AFTER:
            self.links = self._links()
            if self.links is not None:
                return name in self.links
        try:
            return stat.S_ISLNK(os.lstat(f"{self.real}/{name}").st_mode)
        except OSError:  # missing: it cannot lead anywhere
            return False

    def _links(self) -> frozenset[str] | None:
        """The names of the links in the folder; None when it holds more than
        ``LIST_AT_MOST`` entries (asking name by name costs less) or cannot be listed."""
        links = []
        try:
            with os.scandir(self.real) as entries:
                for count, entry in enumerate(entries):
                    if count == self.LIST_AT_MOST:
                        return None
                    if entry.is_symlink():
                        links.append(entry.name)
        except OSError:
            return None
        return frozenset(links)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
"""A file found regular is opened without following a last link (one made since its
folder was looked at) and without waiting on a pipe (one swapped in since), and what
it is, is asked again of the open file."""


class NotRegularFile(OSError):
    """The file opened is a folder, pipe, socket or device."""


def open_regular(path: str, *, follow_links: bool = False) -> BinaryIO:
    """Open a file found regular (by :func:`local_file`, or ``source_problem``) for
    reading, asking again of the open file: ``NotRegularFile`` when it is no longer
    one, ``OSError`` when it is gone or, unless ``follow_links``, is now a link.

    >>> open_regular(os.getcwd())  # a folder
    Traceback (most recent call last):
    intermt_schema.validation._containment.NotRegularFile: ... is not a regular file
    """
    extra = _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", 0) if follow_links else _OPEN_FLAGS

    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags | extra)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotRegularFile(f"{name} is not a regular file")
        return fd

    return open(path, "rb", opener=opener)


def read_under_root(
    path: str, root: str, max_bytes: int
) -> tuple[bytes | None, tuple[str, str] | None]:
    """Read ``root/path`` if it exists, stays under ``root`` once links are resolved,
    and is a regular file; at most ``max_bytes + 1`` bytes, so that a larger file shows
    it is. ``root`` is a local folder or any fsspec URL.

    >>> read_under_root("../x.png", "/", 10)[1][0]
    'image.escapes_root'
    >>> read_under_root("../x.png", "https://example.org/data", 10)[1][0]
    'image.escapes_root'
    """
    if "://" in root and not root.startswith("file://"):
        problem = path_problem(path)  # a server may resolve "..", as HTTP's do
        if problem:
            return None, problem
        import fsspec

        fs, base = fsspec.core.url_to_fs(root)
        full = posixpath.join(base, path)
        if not fs.exists(full):
            return None, _missing(path)
        with fs.open(full, "rb") as f:
            return f.read(max_bytes + 1), None
    real, problem = local_file(root.removeprefix("file://"), path)  # no device is opened
    if real is None:
        return None, problem
    try:
        opened = open_regular(real)
    except NotRegularFile:  # swapped since it was looked at
        return None, _not_regular(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, _missing(path)
        return None, ("image.missing", f"image file {path!r} cannot be opened: {exc.strerror}")
    with opened as f:
        # a read of n bytes allocates n: ask for the file's size, not the limit
        data = f.read(min(os.fstat(f.fileno()).st_size, max_bytes) + 1)
        extra = f.read(1) if len(data) <= max_bytes else b""
        if extra:  # it grew while read: read on, up to the limit and a byte
            data += extra + f.read(max_bytes - len(data))
        return data, None
