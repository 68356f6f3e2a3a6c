"""Representations derived from the msgspec schema: pydantic models and JSON pointers.

The pydantic models are built from ``msgspec.inspect`` type information, so they cannot
drift from the Structs; a Hypothesis differential test checks both accept and reject
the same documents.

>>> from intermt_schema._schema import DialogueTree
>>> Model = pydantic_model(DialogueTree)
>>> Model.model_validate_json('{"id": "t"}').id
't'
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Annotated, Any, Literal, Union

import msgspec
import msgspec.inspect as mi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, create_model

__all__ = ["json_pointer", "pydantic_model"]

_CONFIG = ConfigDict(strict=True, extra="ignore")


def _from_base64(value: Any) -> Any:
    """Standard base64 with padding, as msgspec reads and writes it; bytes pass through."""
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("Invalid base64 encoded string") from None
    return value


_Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), when_used="json"),
]


def _constrained(base: type, t: Any, names: tuple[str, ...]) -> Any:
    limits = {n: getattr(t, n) for n in names if getattr(t, n) is not None}
    return Annotated[base, Field(**limits)] if limits else base


def _annotation(t: mi.Type) -> Any:
    if isinstance(t, mi.Metadata):
        return _annotation(t.type)
    if isinstance(t, mi.StrType):
        return _constrained(str, t, ("min_length", "max_length", "pattern"))
    if isinstance(t, mi.IntType):
        return _constrained(int, t, ("ge", "gt", "le", "lt", "multiple_of"))
    if isinstance(t, mi.FloatType):
        return _constrained(float, t, ("ge", "gt", "le", "lt", "multiple_of"))
    simple = {
        mi.BoolType: bool,
        mi.BytesType: _Base64Bytes,
        mi.NoneType: type(None),
        mi.AnyType: Any,
    }
    if type(t) in simple:
        return simple[type(t)]
    if isinstance(t, mi.LiteralType):
        return Literal[t.values]
    if isinstance(t, mi.ListType):
        return list[_annotation(t.item_type)]  # type: ignore[misc]
    if isinstance(t, mi.DictType):
        return dict[_annotation(t.key_type), _annotation(t.value_type)]  # type: ignore[misc]
    if isinstance(t, mi.StructType):
        return pydantic_model(t.cls)
    if isinstance(t, mi.UnionType):
        structs = [m for m in t.types if isinstance(m, mi.StructType)]
        others = [_annotation(m) for m in t.types if not isinstance(m, mi.StructType)]
        members: list[Any] = [_annotation(s) for s in structs]
        if len(structs) > 1:
            tag_field = structs[0].tag_field
            members = [Annotated[Union[tuple(members)], Field(discriminator=tag_field)]]  # noqa: UP007
        return Union[tuple(members + others)]  # noqa: UP007
    raise TypeError(f"no pydantic equivalent for {t!r}")  # pragma: no cover


@functools.cache
def pydantic_model(cls: type) -> type[BaseModel]:
    """The pydantic model equivalent to a msgspec Struct class (cached).

    >>> from intermt_schema._schema import TextPart
    >>> pydantic_model(TextPart).model_validate({"type": "text", "text": "x"}).text
    'x'
    """
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    fields: dict[str, Any] = {}
    if info.tag_field is not None:
        fields[info.tag_field] = (Literal[info.tag], info.tag)
    for f in info.fields:
        annotation = _annotation(f.type)
        if f.required:
            default: Any = ...
        elif f.default_factory is not msgspec.NODEFAULT:
            default = Field(default_factory=f.default_factory)
        else:
            default = f.default
        fields[f.encode_name] = (annotation, default)
    model: type[BaseModel] = create_model(
        cls.__name__, __config__=_CONFIG, __module__=__name__, **fields
    )
    return model


_MSGSPEC_PATH = re.compile(r"\[(\d+)\]|\.([^.\[]+)|\[\.\.\.\]")


def json_pointer(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """A JSON pointer (RFC 6901) from a list of keys and indexes.

    >>> json_pointer(["nodes", 3, "content", "a/b"])
    '/nodes/3/content/a~1b'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_from_msgspec(message: str) -> tuple[str, str]:
    """Split a msgspec error message into (text, JSON pointer).

    >>> pointer_from_msgspec("Expected `int`, got `str` - at `$.ratings[3].score`")
    ('Expected `int`, got `str`', '/ratings/3/score')
    """
    text, sep, where = message.rpartition(" - at `")
    if not sep or not where.startswith("$"):
        return message, ""
    parts: list[str | int] = []
    for index, key in _MSGSPEC_PATH.findall(where[1:].rstrip("`")):
        parts.append(int(index) if index else key)
    return text, json_pointer(parts)


def _step(node: Any, step: str | int) -> Any:
    """``node[step]`` where it exists, else None."""
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    if isinstance(node, dict) and step in node:
        return node[step]
    return None


def pointer_from_loc(document: Any, loc: tuple[str | int, ...]) -> str:
    """A JSON pointer from a pydantic error location, following the document itself.

    pydantic puts union tags into locations (``content, 0, image, image``); only the
    steps that exist in the document are kept.

    >>> doc = {"content": [{"type": "image", "image": {}}]}
    >>> pointer_from_loc(doc, ("content", 0, "image", "image", "x"))
    '/content/0/image/x'
    """
    parts: list[str | int] = []
    node = document
    after_index = False
    for step in loc:
        if after_index and isinstance(node, dict) and node.get("type") == step:
            after_index = False
            continue  # the union tag pydantic inserts after a part's index
        after_index = isinstance(step, int)
        node = _step(node, step)
        parts.append(step)
    return json_pointer(parts)
