"""Arrow tables of schema Structs: a flat class (every field a scalar, a number or JSON
text) column by column, any other row by row through :func:`to_row`; both give the
same table (a property test holds them equal).

>>> import msgspec
>>> from intermt_schema.io._arrow import arrow_schema
>>> class Scored(msgspec.Struct):
...     target: str
...     score: int | float
>>> table = to_table([Scored("a", 1), Scored("b", 2.5)], arrow_schema(False, Scored))
>>> table.column("score").to_pylist(), table.column("score_real").to_pylist()
([1, None], [None, 2.5])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import msgspec
import msgspec.inspect as mi

from .._errors import require
from ..schema._structs import DialogueTree
from ._arrow import is_number, to_rows

__all__ = ["flat_table", "gathered", "to_table"]

_json_encode = msgspec.json.encode


_SCALARS = (mi.StrType, mi.LiteralType, mi.IntType, mi.FloatType, mi.BoolType, mi.BytesType)


def _flat_kind(t: mi.Type) -> str | None:
    """How a field maps to flat columns: ``value``, ``json`` text, or ``number`` (two
    columns: integers, and floats in ``<name>_real``); None when it nests."""
    if isinstance(t, mi.Metadata):
        return _flat_kind(t.type)
    if is_number(t):
        return "number"
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        return _flat_kind(members[0]) if len(members) == 1 else None
    if isinstance(t, _SCALARS):
        return "value"
    return "json" if isinstance(t, (mi.DictType, mi.AnyType)) else None


Flat = tuple[tuple[str, str, str], ...]


_FLAT: dict[type, Flat | None] = {}


def _flat_fields(cls: type) -> Flat | None:
    """``(attribute, column, kind)`` for each field of a Struct class whose fields all
    map to flat columns and are all written (no ``omit_defaults``); None otherwise."""
    if cls not in _FLAT:
        info = mi.type_info(cls)
        flat: Flat | None = None
        config = getattr(cls, "__struct_config__", None)
        if cls is not DialogueTree and isinstance(info, mi.StructType) and config is not None:
            kinds = [(f.name, f.encode_name, _flat_kind(f.type) or "") for f in info.fields]
            if not config.omit_defaults and all(kind for *_, kind in kinds):
                flat = tuple(kinds)
        _FLAT[cls] = flat
    return _FLAT[cls]


def to_table(values: Iterable[Any], schema: Any) -> Any:
    """An Arrow table, in ``schema`` (from :func:`arrow_schema`), of Structs of one class:
    a flat class (ratings, judgments) is built column by column, any other row by row
    through :func:`to_row`; both give the same table."""
    pa = require("pyarrow", "parquet")
    items = values if isinstance(values, list) else list(values)
    fields = _flat_fields(type(items[0])) if items else None
    if fields is None:
        return pa.Table.from_pylist(to_rows(items), schema=schema)
    return flat_table(items, type(items[0]), schema)


def flat_table(
    items: list[Any], cls: type, schema: Any, given: Mapping[str, list[Any]] | None = None
) -> Any:
    """The table :func:`to_table` makes of rows of the flat class ``cls``, read from
    ``items`` that have the same attributes (such as the ratings a
    ``RatingRow`` copies), but for the columns ``given``.

    >>> import msgspec
    >>> from intermt_schema.io._arrow import arrow_schema
    >>> class Named(msgspec.Struct):
    ...     tree_id: str
    ...     name: str
    >>> class Name(msgspec.Struct):
    ...     name: str
    >>> flat_table([Name("a")], Named, arrow_schema(False, Named), {"tree_id": ["t"]}).to_pylist()
    [{'tree_id': 't', 'name': 'a'}]
    """
    pa = require("pyarrow", "parquet")
    fields = _flat_fields(cls)
    if fields is None:
        raise TypeError(f"{cls.__name__} is not flat")
    columns: dict[str, list[Any]] = {}
    for name, column, kind in fields:
        if given and name in given:
            columns[column] = given[name]
            continue
        found = list(map(attrgetter(name), items))
        if kind == "json":
            found = [None if v is None else _json_encode(v).decode() for v in found]
        elif kind == "number":
            columns[f"{column}_real"] = [v if type(v) is float else None for v in found]
            found = [None if type(v) is float else v for v in found]
        columns[column] = found
    return pa.Table.from_pydict(columns, schema=schema)


def gathered(
    values: Any, positions: Sequence[Sequence[int]], list_type: Any, *, without: str = ""
) -> Any:
    """A list column whose row ``i`` holds the items of ``values`` (an Arrow array) at
    ``positions[i]``, taken in C++ rather than converted again; ``without`` names a
    struct field left null in every item taken.

    >>> import pyarrow as pa
    >>> gathered(pa.array(["a", "b", "c"]), [[2, 0], [], [1]], pa.list_(pa.string())).to_pylist()
    [['c', 'a'], [], ['b']]
    """
    pa = require("pyarrow", "parquet")
    offsets = pa.array(itertools.accumulate(map(len, positions), initial=0), pa.int32())
    items = values.take(pa.array(itertools.chain.from_iterable(positions), pa.int64()))
    if without:
        fields = list(items.type)
        children = [
            pa.nulls(len(items), f.type) if f.name == without else items.field(f.name)
            for f in fields
        ]
        items = pa.StructArray.from_arrays(children, fields=fields)
    return pa.ListArray.from_arrays(offsets, items, type=list_type)
