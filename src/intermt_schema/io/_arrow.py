"""The Arrow schema and Hugging Face features, derived from the msgspec schema.

Mapping rules, applied by walking ``msgspec.inspect`` type information:

- strings, integers, floats, booleans and bytes map to their Arrow types;
- lists map to ``list<...>``; structs to ``struct<...>``;
- a tagged union of structs maps to one struct holding the tag and every member's fields
  (members with a field of the same name and type share its column);
- an ``int | float`` field (a score) maps to two columns, ``score`` for integers and
  ``score_real`` for floats;
- free-form dicts (``meta``, ``outcomes``) map to JSON text, which every engine reads;
- an ``ImageRef`` maps to ``image: struct<bytes, path>`` -- the storage of the Hugging
  Face ``Image`` feature -- plus ``image_info`` with its other fields and the path.

>>> schema = arrow_schema()
>>> schema.field("nodes").type.value_type.field("role").type
DataType(string)
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from .._errors import require
from ..schema._structs import DialogueTree, ImagePart, ImageRef, stamped

__all__ = [
    "Convert",
    "arrow_schema",
    "from_row",
    "hf_features_dict",
    "is_number",
    "row_to_tree",
    "to_row",
    "to_rows",
    "tree_to_row",
]

Convert = Callable[[Any], Any]


T = TypeVar("T")


_json_encode = msgspec.json.encode


_json_decode = msgspec.json.decode


def _pa() -> Any:
    return require("pyarrow", "parquet")


class _Node:
    """One schema position: its Arrow type, HF feature, and value converters."""

    __slots__ = ("arrow", "feature", "floats", "from_arrow", "to_arrow", "triggers")

    def __init__(
        self,
        arrow: Any,
        feature: Any,
        to_arrow: Convert | None,
        from_arrow: Convert | None,
        triggers: frozenset[str] | None = None,
    ):
        self.arrow, self.feature = arrow, feature
        self.to_arrow, self.from_arrow = to_arrow, from_arrow
        # keys whose presence in a dict means ``to_arrow`` has work to do (None: always)
        self.triggers = triggers
        # ``(name, name_real)`` when ``to_arrow`` moves a float from name to name_real
        self.floats: tuple[str, str] | None = None


def _value(arrow: Any, dtype: str) -> _Node:
    return _Node(arrow, {"dtype": dtype, "_type": "Value"}, None, None)


def _json_text() -> _Node:
    return _Node(
        _pa().string(),
        {"dtype": "string", "_type": "Value"},
        lambda v: None if v is None else _json_encode(v).decode(),
        lambda v: None if v is None else _json_decode(v),
    )


def _list(inner: _Node) -> _Node:
    to_a, from_a, triggers = inner.to_arrow, inner.from_arrow, inner.triggers
    name, real = inner.floats or ("", "")
    rest = None if triggers is None else triggers - {name}  # what still needs to_a

    def to_arrow(items: Any) -> Any:
        if items is None:
            return None
        if rest is None:
            return [to_a(x) for x in items]  # type: ignore[misc]
        for x in items:  # dicts are converted in place; most need nothing
            if name and type(x.get(name)) is float:  # a score, inlined (ratings)
                x[real] = x.pop(name)
            if not rest.isdisjoint(x):
                to_a(x)  # type: ignore[misc]
        return items

    return _Node(
        _pa().list_(inner.arrow),
        {"feature": inner.feature, "_type": "List"},
        None if to_a is None else to_arrow,
        None if from_a is None else (lambda v: None if v is None else [from_a(x) for x in v]),
    )


def _struct(fields: dict[str, _Node], drop_null: frozenset[str]) -> _Node:
    """A struct; ``drop_null`` names fields whose Arrow null means "use the default".
    A field whose node has several columns (a dict of Arrow types) puts them in the
    struct, and its converters take the whole struct value."""
    pa = _pa()
    columns: list[tuple[str, Any]] = []
    feature: dict[str, Any] = {}
    for name, node in fields.items():
        if isinstance(node.arrow, dict):
            columns += node.arrow.items()
            feature.update(node.feature)
        else:
            columns.append((name, node.arrow))
            feature[name] = node.feature
    arrow = pa.struct([pa.field(name, column) for name, column in columns])
    groups = {n for n, f in fields.items() if isinstance(f.arrow, dict)}
    to_fns = [(n, f.to_arrow) for n, f in fields.items() if f.to_arrow is not None]
    from_fns = [(n, f.from_arrow) for n, f in fields.items() if f.from_arrow is not None]

    def to_arrow(value: Any) -> Any:
        if value is None:
            return None
        for name, fn in to_fns:
            if name in groups:
                fn(value)
            elif name in value:
                value[name] = fn(value[name])
        return value

    def from_arrow(value: Any) -> Any:
        if value is None:
            return None
        for name, fn in from_fns:
            if name in groups:
                fn(value)
            else:
                value[name] = fn(value[name])
        for name in drop_null:
            if value.get(name, 0) is None:
                del value[name]
        return value

    triggers = frozenset(name for name, _ in to_fns)
    node = _Node(arrow, feature, to_arrow if to_fns else None, from_arrow, triggers)
    scores = [fields[n].floats for n in groups if fields[n].floats is not None]
    if len(scores) == 1:  # a score's columns, on this struct: a list may inline them
        node.floats = scores[0]
    return node


def _number(name: str) -> _Node:
    """A field holding an integer or a float: integers in ``name`` (int64), floats in
    ``name_real`` (float64), so that ``1`` and ``1.0`` stay apart and a file of
    integers keeps its integer column."""
    pa = _pa()
    real = f"{name}_real"

    def to_arrow(value: Any) -> None:
        if type(value.get(name)) is float:
            value[real] = value.pop(name)

    def from_arrow(value: Any) -> None:
        number = value.pop(real, None)
        if number is not None:
            value[name] = number

    node = _Node(None, None, to_arrow, from_arrow, frozenset({name}))
    node.floats = (name, real)
    node.arrow = {name: pa.int64(), real: pa.float64()}
    node.feature = {name: {"dtype": "int64", "_type": "Value"},
                    real: {"dtype": "float64", "_type": "Value"}}  # fmt: skip
    return node


def _image_part() -> _Node:
    """``ImagePart`` as HF ``Image`` storage (bytes, path) plus ``image_info`` with the
    other fields and the path again, which ``datasets`` cuts to its basename when it
    embeds the bytes (``image_info.path`` wins on the way back)."""
    pa = _pa()
    info_fields = [f for f in mi.type_info(ImageRef).fields if f.name != "bytes"]  # type: ignore[attr-defined]
    info = _struct({f.encode_name: _node(f.type) for f in info_fields}, frozenset())
    image_arrow = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
    info_names = [f.encode_name for f in info_fields]

    def to_arrow(part: Any) -> Any:
        ref = part.pop("image")
        part["image"] = {"bytes": ref.pop("bytes", None), "path": ref.get("path")}
        part["image_info"] = ref or None  # the path again: datasets keeps only its basename
        return part

    def from_arrow(part: Any) -> Any:
        image = part.pop("image", None) or {}
        info_value = part.pop("image_info", None) or {}
        ref = {k: v for k, v in image.items() if v is not None}
        ref.update((k, v) for k, v in info_value.items() if v is not None and k in info_names)
        part["image"] = ref
        return part

    node = _Node(None, None, to_arrow, from_arrow, frozenset({"image"}))
    node.arrow = {"image": image_arrow, "image_info": info.arrow}
    node.feature = {"image": {"_type": "Image"}, "image_info": info.feature}
    return node


def _tagged_union(members: list[mi.StructType]) -> _Node:
    """One struct with the tag and the union of every member's fields."""
    pa = _pa()
    tag = members[0].tag_field
    assert tag is not None
    columns: dict[str, Any] = {tag: pa.string()}
    feature: dict[str, Any] = {tag: {"dtype": "string", "_type": "Value"}}
    by_tag: dict[Any, _Node] = {}
    for member in members:
        node = _image_part() if member.cls is ImagePart else _struct_node(member)
        by_tag[member.tag] = node
        for name, arrow in (
            node.arrow.items()
            if isinstance(node.arrow, dict)
            else ((f.name, f.type) for f in node.arrow)
        ):  # members share a column when they share a field (text, reasoning: "text")
            assert columns.setdefault(name, arrow) == arrow, f"{name} differs between parts"
        feature.update(node.feature)
    arrow_fields = [pa.field(name, arrow) for name, arrow in columns.items()]

    def to_arrow(value: Any) -> Any:
        fn = by_tag[value[tag]].to_arrow
        return fn(value) if fn else value

    member_triggers = [n.triggers for n in by_tag.values() if n.to_arrow is not None]
    triggers: frozenset[str] | None = frozenset()
    for member_trigger in member_triggers:
        triggers = None if member_trigger is None or triggers is None else triggers | member_trigger

    def from_arrow(value: Any) -> Any:
        node = by_tag[value[tag]]
        if node.from_arrow is not None:
            value = node.from_arrow(value)
        return {k: v for k, v in value.items() if v is not None}

    return _Node(pa.struct(arrow_fields), feature, to_arrow, from_arrow, triggers)


def _struct_node(info: mi.StructType) -> _Node:
    fields = {
        f.encode_name: _number(f.encode_name) if is_number(f.type) else _node(f.type)
        for f in info.fields
    }
    drop = frozenset(f.encode_name for f in info.fields if not f.required and not _nullable(f.type))
    return _struct(fields, drop)


def is_number(t: mi.Type) -> bool:
    """An ``int | float`` union."""
    kinds = {type(m.type if isinstance(m, mi.Metadata) else m) for m in getattr(t, "types", ())}
    return kinds == {mi.IntType, mi.FloatType}


def _nullable(t: mi.Type) -> bool:
    return isinstance(t, mi.UnionType) and any(isinstance(m, mi.NoneType) for m in t.types)


def _node(t: mi.Type) -> _Node:
    pa = _pa()
    if isinstance(t, mi.Metadata):
        return _node(t.type)
    if isinstance(t, (mi.StrType, mi.LiteralType)):
        return _value(pa.string(), "string")
    if isinstance(t, mi.IntType):
        return _value(pa.int64(), "int64")
    if isinstance(t, mi.FloatType):
        return _value(pa.float64(), "float64")
    if isinstance(t, mi.BoolType):
        return _value(pa.bool_(), "bool")
    if isinstance(t, mi.BytesType):
        return _value(pa.binary(), "binary")
    if isinstance(t, (mi.DictType, mi.AnyType)):
        return _json_text()
    if isinstance(t, mi.ListType):
        return _list(_node(t.item_type))
    if isinstance(t, mi.StructType):
        return _struct_node(t)
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        if len(members) == 1:
            return _node(members[0])
        if all(isinstance(m, mi.StructType) for m in members):
            return _tagged_union(members)  # type: ignore[arg-type]
    raise TypeError(f"no Arrow mapping for {t!r}")  # pragma: no cover


_NODES: dict[type, _Node] = {}


def _node_for(cls: type) -> _Node:
    """The derived mapping of a Struct class, built once."""
    node = _NODES.get(cls)
    if node is None:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        node = _NODES[cls] = _struct_node(info)
    return node


def arrow_schema(hf_images: bool = True, cls: type = DialogueTree) -> Any:
    """The ``pyarrow.Schema`` of one ``cls`` (a canonical tree by default) per row,
    carrying HF features metadata that makes images ``Image`` features
    (``hf_images=False`` leaves the metadata out, for images nobody can resolve)."""
    pa = _pa()
    node = _node_for(cls)
    fields = [pa.field(f.name, f.type) for f in node.arrow]
    if not hf_images:
        return pa.schema(fields)
    metadata = {b"huggingface": _json_encode({"info": {"features": node.feature}})}
    return pa.schema(fields, metadata=metadata)


def hf_features_dict(cls: type = DialogueTree) -> dict[str, Any]:
    """The ``datasets.Features`` of a row, in its serialized (``to_dict``) form."""
    feature: dict[str, Any] = _node_for(cls).feature
    return feature


_to_builtins = functools.partial(msgspec.to_builtins, builtin_types=(bytes,))


def to_row(value: Any) -> dict[str, Any]:
    """A schema Struct as one Arrow-ready row (a dict of builtins); a tree is stamped
    with the lowest version that expresses it, as every writer does."""
    if type(value) is DialogueTree:
        value = stamped(value)
    fn = _node_for(type(value)).to_arrow
    row = _to_builtins(value)
    return fn(row) if fn else row  # type: ignore[no-any-return]


def from_row(cls: type[T], row: dict[str, Any]) -> T:
    """The ``cls`` a row holds; raises ``msgspec.ValidationError`` when it does not fit."""
    fn = _node_for(cls).from_arrow
    return msgspec.convert(fn(row) if fn else row, type=cls)


def to_rows(values: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows for many Structs, built with the garbage collector paused: the rows are
    acyclic builtins, and collections triggered by their allocation cost a third of
    the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [to_row(v) for v in values]
    finally:
        if enabled:
            gc.enable()


def tree_to_row(tree: DialogueTree) -> dict[str, Any]:
    """A tree as one Arrow-ready row."""
    return to_row(tree)


def row_to_tree(row: dict[str, Any]) -> DialogueTree:
    """The tree a row holds; raises ``msgspec.ValidationError`` when it does not fit."""
    return from_row(DialogueTree, row)
