"""Content parts and the references to the files they hold: the pieces a message is
made of. Part of the canonical schema (see ``_structs``).

>>> [type(p).__name__ for p in (TextPart("Hi"), ImagePart(image=ImageRef(path="a.png")))]
['TextPart', 'ImagePart']
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, TypeAlias

from msgspec import Meta, Struct

__all__ = [
    "MEDIA_PARTS",
    "AudioPart",
    "ImagePart",
    "ImageRef",
    "MediaRef",
    "Part",
    "Pixels",
    "ReasoningPart",
    "Seconds",
    "Sha256",
    "TextPart",
    "ToolCallPart",
    "VideoPart",
    "media_of",
]


Sha256 = Annotated[str, Meta(pattern="^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")]


_Bytes: TypeAlias = bytes  # the field ImageRef.bytes shadows the builtin in its class


Pixels = Annotated[int, Meta(ge=1, le=2**31 - 1, description="A size in pixels.")]


class _Base(Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True, gc=False):
    """Common options: keyword construction, defaults left out of the encoding, and no
    garbage-collector tracking (records hold no reference cycles), which speeds decoding."""


class _Located(_Base, kw_only=True):
    """Where a media file lives: inline ``bytes``, a ``path`` relative to the dataset
    root, or a ``uri`` that fsspec can open. At least one of the three is required."""

    bytes: _Bytes | None = None
    path: str | None = None
    uri: str | None = None
    sha256: Sha256 | None = None
    mime: str | None = None

    def identity(self) -> str:
        """What makes two references the same file: the sha256, else the path, else
        the uri, else a digest of the bytes.

        >>> ImageRef(path="images/cat.png", uri="s3://b/cat.png").identity()
        'images/cat.png'
        """
        if self.sha256 or self.path or self.uri:
            return self.sha256 or self.path or self.uri or ""
        return hashlib.sha256(self.bytes or b"").hexdigest()


class ImageRef(_Located, kw_only=True):
    """Where an image lives (see ``_Located``), and its size where known.

    >>> ImageRef(path="images/cat.png").path
    'images/cat.png'
    """

    width: Pixels | None = None
    height: Pixels | None = None


Seconds = Annotated[float, Meta(ge=0, description="A duration in seconds.")]


class MediaRef(_Located, kw_only=True):
    """Where a video or an audio clip lives (1.1), and its duration where known.

    >>> MediaRef(path="clips/a.mp4", duration=2.5).duration
    2.5
    """

    duration: Seconds | None = None


class TextPart(_Base, tag="text", tag_field="type", kw_only=False):
    """A run of text inside a message.

    >>> TextPart("hello").text
    'hello'
    """

    text: str


class ImagePart(_Base, tag="image", tag_field="type", kw_only=True):
    """An image at its position among a message's parts.

    >>> ImagePart(image=ImageRef(path="images/a.png")).image.path
    'images/a.png'
    """

    image: ImageRef


class VideoPart(_Base, tag="video", tag_field="type", kw_only=True):
    """A video at its position among a message's parts (1.1).

    >>> VideoPart(video=MediaRef(path="clips/a.mp4")).video.path
    'clips/a.mp4'
    """

    video: MediaRef


class AudioPart(_Base, tag="audio", tag_field="type", kw_only=True):
    """An audio clip at its position among a message's parts (1.1).

    >>> AudioPart(audio=MediaRef(path="clips/a.wav")).audio.path
    'clips/a.wav'
    """

    audio: MediaRef


class ReasoningPart(_Base, tag="reasoning", tag_field="type", kw_only=False):
    """An assistant's reasoning (thinking), kept apart from its answer text (1.1).

    >>> ReasoningPart("First, the radius.").text
    'First, the radius.'
    """

    text: str


class ToolCallPart(_Base, tag="tool_call", tag_field="type", kw_only=True):
    """An assistant's call of a declared tool (1.1): the function ``name``, its
    ``arguments`` as a JSON value, and the ``call_id`` that the ``tool`` message
    answering it names in ``tool_call_id``, where the source has one.

    >>> ToolCallPart(name="circle_area", arguments={"radius": 1.5}).arguments
    {'radius': 1.5}
    """

    name: str
    arguments: Any = None
    call_id: str | None = None


Part: TypeAlias = TextPart | ImagePart | VideoPart | AudioPart | ReasoningPart | ToolCallPart


"""A content part. Discriminated by ``type``; new part kinds arrive as new tags."""

MEDIA_PARTS = (ImagePart, VideoPart, AudioPart)
"""The part types that hold a file."""


def media_of(part: Part) -> tuple[str, ImageRef | MediaRef] | None:
    """``(kind, reference)`` of a part that holds a file (kind is its field name:
    ``image``, ``video`` or ``audio``); None for text, reasoning and tool calls.

    >>> media_of(VideoPart(video=MediaRef(path="a.mp4")))[0]
    'video'
    """
    kind = type(part)
    if kind is ImagePart:
        return "image", part.image  # type: ignore[union-attr]
    if kind is VideoPart:
        return "video", part.video  # type: ignore[union-attr]
    if kind is AudioPart:
        return "audio", part.audio  # type: ignore[union-attr]
    return None
