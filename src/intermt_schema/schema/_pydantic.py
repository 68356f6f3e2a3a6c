"""pydantic models derived from the msgspec schema.

The models are built from ``msgspec.inspect`` type information, so they cannot drift
from the Structs; a Hypothesis differential test checks both accept and reject the
same documents. pydantic is imported only when a model is asked for.

>>> from intermt_schema import DialogueTree
>>> Model = pydantic_model(DialogueTree)
>>> Model.model_validate_json('{"id": "t"}').id
't'
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Annotated, Any, Literal, Union

import msgspec
import msgspec.inspect as mi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, create_model

__all__ = ["pydantic_model"]

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

    >>> from intermt_schema import TextPart
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
