"""Placing the images a training file names: as they are, copied, or linked.

A copy is streamed in chunks to a temporary file and renamed into place, so no reader
sees half an image, and its bytes are checked against a declared ``sha256`` as they
pass. A path that another file already holds in the output folder (an earlier export of
another dataset) is never overwritten: the image goes to ``images/<sha256>.<ext>`` and
the record names that, so both datasets stay right.

>>> import os, tempfile
>>> src, out = tempfile.mkdtemp(), tempfile.mkdtemp()
>>> os.makedirs(f"{src}/images"); open(f"{src}/images/a.png", "wb").write(b"A")
1
>>> sink = ImageSink(out, src, "copy")
>>> sink.place(ImageRef(path="images/a.png"))
'images/a.png'
>>> open(f"{out}/images/a.png", "rb").read()
b'A'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
from typing import BinaryIO, Literal

from ..io._fs import is_local
from ..schema._structs import ImageRef, MediaRef
from ..validation._containment import local_file, open_regular
from ._registry import LossReport

__all__ = ["ImageSink"]

CHUNK = 1 << 20

_EXTENSIONS = {"image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}


class ImageSink:
    """Turns image references into the strings a training file names.

    ``mode="reference"`` writes paths as they are (relative to the dataset root, which
    becomes the trainer's image folder); ``"copy"`` and ``"link"`` place the files
    under ``out_dir`` at the same relative paths. Inline bytes are always written to
    ``out_dir/images/<sha256>.<ext>``; a ``uri`` is written as it is.
    """

    def __init__(
        self,
        out_dir: str | None,
        source_root: str | None = None,
        mode: Literal["reference", "copy", "link"] = "reference",
    ) -> None:
        self.out_dir, self.source_root, self.mode = out_dir, source_root, mode
        self.placed = self.missing = self.unwritten = self.outside = self.mismatched = 0
        self.media = 0  # of the files placed, the videos and audio clips

    def place(self, ref: ImageRef | MediaRef) -> str:
        """The string the record names ``ref`` (an image, video or audio file) by, once
        the file is placed."""
        self.placed += 1
        self.media += type(ref) is MediaRef
        local = self.out_dir is not None and is_local(self.out_dir)
        if ref.path:
            if self.mode != "reference" and self.source_root and local:
                return self._place_file(ref.path, ref)
            return ref.path
        if ref.bytes is not None:
            digest = ref.sha256 or hashlib.sha256(ref.bytes).hexdigest()
            name = f"images/{digest}{_EXTENSIONS.get(ref.mime or '', '.png')}"
            if self.out_dir is None:
                self.unwritten += 1
            elif local:
                target = os.path.join(self.out_dir, name)
                if not os.path.exists(target):
                    _write_whole(target, ref.bytes)
            return name
        return ref.uri or ""

    def account(self, loss: LossReport) -> None:
        """Count in ``loss`` the images and media files named, and those that could not
        be placed."""
        loss.images += self.placed - self.media
        loss.media += self.media
        loss.drop("images not found to copy", self.missing)
        loss.drop("images outside the dataset root, not copied", self.outside)
        loss.drop("images whose bytes do not have their sha256, not placed", self.mismatched)
        loss.drop("inline images not written (no image folder)", self.unwritten)

    def _place_file(self, relative: str, ref: ImageRef | MediaRef) -> str:
        assert self.source_root is not None and self.out_dir is not None
        source, problem = local_file(self.source_root, relative)  # the containment rule
        if source is None:
            if problem is not None and problem[0] == "image.missing":
                self.missing += 1
            else:
                self.outside += 1
            return relative
        target = os.path.join(self.out_dir, relative)  # relative is safe: no "..", not absolute
        if os.path.abspath(source) == os.path.abspath(target):
            return relative
        try:
            digest = _source_digest(source) if ref.sha256 or os.path.lexists(target) else None
        except OSError:  # gone, or swapped for a link or a pipe, since it was looked at
            self.missing += 1
            return relative
        if ref.sha256 and digest != ref.sha256:  # not the image the tree names: not placed
            self.mismatched += 1
            return relative
        if os.path.lexists(target):
            with open(target, "rb") as placed:  # ours: a copy, or a link to the source
                if _digest(placed) == digest:
                    return relative  # placed by an earlier run
            relative = f"images/{digest}{posixpath.splitext(relative)[1]}"
            target = os.path.join(self.out_dir, relative)
            if os.path.lexists(target):
                return relative  # named by its content: the same bytes
        if self.mode == "link":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another worker linked it
                os.symlink(os.path.abspath(source), target)
        else:
            try:
                data = open_regular(source)
            except OSError:
                self.missing += 1
                return relative
            with data:
                _write_whole(target, data)
        return relative


def _digest(f: BinaryIO) -> str:
    """The SHA-256 of an open file's contents, read in chunks."""
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _source_digest(source: str) -> str:
    with open_regular(source) as f:
        return _digest(f)


def _write_whole(target: str, data: bytes | BinaryIO) -> None:
    """Write bytes, or a file's contents in chunks, so that no reader (or concurrent
    worker) sees the target half-written."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = f"{target}.{os.getpid()}.part"
    try:
        with open(temp, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                shutil.copyfileobj(data, out, CHUNK)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
