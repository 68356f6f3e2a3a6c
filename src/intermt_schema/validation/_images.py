"""Image reference rules: safe relative paths, and (on request) files that exist and decode.

>>> path_problem("images/a.png") is None
True
>>> path_problem("../secret.png")[0]
'image.escapes_root'
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import operator
import os
import posixpath
import re
import stat
import time
import warnings
from dataclasses import dataclass

from msgspec import structs

from .._errors import require
from ..schema._structs import DialogueTree, ImagePart, ImageRef, MediaRef, media_of

__all__ = [
    "ImageLimits",
    "MediaEmbedder",
    "all_inside",
    "check_image",
    "digest_problem",
    "embed_media",
    "escapes_root",
    "is_local_root",
    "lacks_source",
    "local_file",
    "media_kind",
    "path_problem",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
"""A path of these characters, without ``..``, is certainly safe (the common case)."""
_PLAIN_LINES = re.compile(rf"{_PLAIN.pattern}(?:\n{_PLAIN.pattern})*")


@dataclass(frozen=True)
class ImageLimits:
    """Bounds applied when image files are opened.

    ``max_pixels`` guards against decompression bombs; ``max_bytes`` against huge files.
    """

    max_pixels: int = 64_000_000
    max_bytes: int = 64 * 1024 * 1024


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


def _decode_problem(data: bytes, limits: ImageLimits) -> tuple[str, str] | None:
    pil = require("PIL.Image", "images")
    image_module = pil
    if len(data) > limits.max_bytes:
        return "image.too_large", f"image is {len(data)} bytes; the limit is {limits.max_bytes}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > limits.max_pixels:
                    return (
                        "image.too_large",
                        f"image is {width}x{height} pixels; the limit is {limits.max_pixels}",
                    )
                img.load()
    except (image_module.DecompressionBombError, image_module.DecompressionBombWarning):
        return "image.too_large", "image exceeds the decompression-bomb limit"
    except image_module.UnidentifiedImageError:
        return "image.undecodable", "the data is not in any image format Pillow knows"
    except Exception as exc:  # Pillow raises many kinds for bad data
        return "image.undecodable", f"image does not decode: {type(exc).__name__}: {exc}"
    return None


def local_file(root: str, path: str) -> tuple[str | None, tuple[str, str] | None]:
    """The one containment rule for every local file opened on behalf of data:
    ``root/path`` must be a safe relative path that, once symlinks are resolved, stays
    under ``root`` and names a regular file (not a folder, pipe, socket or device).
    Returns ``(real path, None)``, or ``(None, (code, message))``.

    >>> local_file("/", "../etc/passwd")[1][0]
    'image.escapes_root'
    """
    full, problem = _resolved(root, path)
    if problem:
        return None, problem
    try:
        mode = os.stat(full).st_mode
    except OSError:
        return None, ("image.missing", f"image file {path!r} not found under the images root")
    if not stat.S_ISREG(mode):
        return None, ("image.missing", f"image path {path!r} is not a regular file")
    return full, None


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


def _read_under_root(
    path: str, root: str, limits: ImageLimits
) -> tuple[bytes | None, tuple[str, str] | None]:
    """Read ``root/path`` if it exists and stays under ``root`` once links are resolved;
    at most ``limits.max_bytes + 1`` bytes, so that a larger file shows it is."""
    if "://" in root and not root.startswith("file://"):
        import fsspec

        fs, base = fsspec.core.url_to_fs(root)
        full = posixpath.join(base, path)
        if not fs.exists(full):
            return None, ("image.missing", f"image file {path!r} not found under the images root")
        with fs.open(full, "rb") as f:
            return f.read(limits.max_bytes + 1), None
    real, problem = local_file(root.removeprefix("file://"), path)
    if real is None:
        return None, problem
    with open(real, "rb") as f:
        # a read of n bytes allocates n: ask for the file's size, not the limit
        data = f.read(min(os.fstat(f.fileno()).st_size, limits.max_bytes) + 1)
        extra = f.read(1) if len(data) <= limits.max_bytes else b""
        if extra:  # it grew while read: read on, up to the limit and a byte
            data += extra + f.read(limits.max_bytes - len(data))
        return data, None


def check_image(
    ref: ImageRef | MediaRef, root: str | None, limits: ImageLimits
) -> list[tuple[str, str]]:
    """Open the image, video or audio file behind ``ref`` and report what is wrong with
    it (with ``image.*`` codes; the caller names a video's problems ``media.*``).

    Inline bytes are read; a path is looked up under ``root`` (a folder or any fsspec
    URL). Pillow checks that an image decodes within ``limits``; a video or audio
    file's header must name a container this reader knows (:func:`media_kind`).
    """
    decode = _decode_problem if isinstance(ref, ImageRef) else _media_problem
    problems: list[tuple[str, str]] = []
    if ref.bytes is not None:
        found = digest_problem(ref, ref.bytes) or decode(ref.bytes, limits)
        if found:
            problems.append(found)
    elif ref.path is not None and path_problem(ref.path) is None and root is not None:
        try:
            data, problem = _read_under_root(ref.path, root, limits)
        except Exception as exc:  # any fsspec backend failure is this image's problem
            data, problem = None, ("image.missing", f"cannot read {ref.path!r}: {exc}")
        if problem:
            problems.append(problem)
        elif data is not None:
            found = digest_problem(ref, data) or decode(data, limits)
            if found:
                problems.append(found)
    return problems


_CONTAINERS: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "video/mp4"),  # MP4, MOV, M4A: an ISO base media box at offset 4
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),  # Matroska and WebM (EBML)
    (8, b"AVI ", "video/x-msvideo"),  # RIFF ... AVI
    (8, b"WAVE", "audio/wav"),  # RIFF ... WAVE
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),  # MP3 with an ID3 tag
)


def media_kind(data: bytes) -> str | None:
    """The MIME type a video or audio file's header names, or None when it names no
    container this reader knows.

    >>> media_kind(b"RIFF" + bytes(4) + b"WAVEfmt "), media_kind(b"hello")
    ('audio/wav', None)
    """
    for offset, magic, mime in _CONTAINERS:
        if data[offset : offset + len(magic)] == magic:
            return mime
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio/mpeg"
    return None


def _media_problem(data: bytes, limits: ImageLimits) -> tuple[str, str] | None:
    if len(data) > limits.max_bytes:
        return "image.too_large", f"the file has more than {limits.max_bytes} bytes"
    if media_kind(data) is None:
        return "image.undecodable", "the header names no video or audio container known here"
    return None


def digest_problem(ref: ImageRef | MediaRef, data: bytes) -> tuple[str, str] | None:
    """``image.sha256_mismatch`` when ``ref`` declares a sha256 its bytes do not have."""
    if ref.sha256 and hashlib.sha256(data).hexdigest() != ref.sha256:
        return "image.sha256_mismatch", "the image's bytes do not have its declared sha256"
    return None


def embed_media(tree: DialogueTree, root: str, limits: ImageLimits | None = None) -> DialogueTree:
    """A copy of ``tree`` whose path-only images, videos and audio clips carry their
    bytes, read under ``root``.

    Paths that are unsafe, missing, or larger than ``limits.max_bytes`` are left as
    they are (validation reports them).
    """
    limits = limits or ImageLimits()
    nodes = []
    for node in tree.nodes:
        content = []
        for part in node.content:
            found = media_of(part)
            ref = found[1] if found is not None else None
            if ref is not None and ref.bytes is None and ref.path and not path_problem(ref.path):
                data, problem = _read_under_root(ref.path, root, limits)
                if (
                    data is not None
                    and problem is None
                    and len(data) <= limits.max_bytes  # read one byte beyond: never cut
                    and not digest_problem(ref, data)
                ):
                    part = structs.replace(part, **{found[0]: structs.replace(ref, bytes=data)})  # type: ignore[index]
            content.append(part)
        nodes.append(structs.replace(node, content=content))
    return structs.replace(tree, nodes=nodes)


class MediaEmbedder:
    """Embeds the image, video and audio files under ``root`` (none when ``root`` is
    None) into each tree it is given, and counts the images left without bytes
    (``unembedded``: missing, unsafe, or a URI only) and the videos and audio clips
    (``unembedded_media``). Writers declare ``Image`` features only when no image is
    left without bytes.

    >>> import intermt_schema as im
    >>> embed = MediaEmbedder(None)
    >>> tree = embed(im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user",
    ...     content=[im.ImagePart(image=im.ImageRef(uri="https://x/a.png"))])]))
    >>> embed.unembedded, embed.unembedded_media
    (1, 0)
    """

    def __init__(self, root: str | None, limits: ImageLimits | None = None) -> None:
        self.root, self.limits = root, limits
        self.unembedded = self.unembedded_media = 0

    def __call__(self, tree: DialogueTree) -> DialogueTree:
        if self.root:
            tree = embed_media(tree, self.root, self.limits)
        for _, part, ref in tree.media():
            if ref.bytes is None:
                if type(part) is ImagePart:
                    self.unembedded += 1
                else:
                    self.unembedded_media += 1
        return tree
