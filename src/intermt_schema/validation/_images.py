"""Image, video and audio files on request: that they exist under the images root
(see ``_containment``), decode within limits and have their declared digest; and
embedding their bytes into trees.

>>> check_image(ImageRef(bytes=b"not a png"), None, ImageLimits())[0][0]
'image.undecodable'
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from msgspec import structs

from .._errors import require
from ..schema._structs import DialogueTree, ImagePart, ImageRef, MediaRef, media_of
from ._containment import path_problem, read_under_root

__all__ = [
    "ImageLimits",
    "MediaEmbedder",
    "check_image",
    "digest_problem",
    "embed_media",
    "media_kind",
]


@dataclass(frozen=True)
class ImageLimits:
    """Bounds applied when image files are opened.

    ``max_pixels`` guards against decompression bombs; ``max_bytes`` against huge files.
    """

    max_pixels: int = 64_000_000
    max_bytes: int = 64 * 1024 * 1024


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
            data, problem = read_under_root(ref.path, root, limits.max_bytes)
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
            if ref is not None and ref.bytes is None and ref.path:  # read_under_root: safe paths
                data, problem = read_under_root(ref.path, root, limits.max_bytes)
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
