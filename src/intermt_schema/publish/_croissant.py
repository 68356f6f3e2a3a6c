"""Croissant 1.1 metadata (``croissant.json``) for a published dataset: one file set
and one record set per configuration, with a field per flat column, derived from the
row types (nested message columns are named in each record set's description, and
described in full by the card's features).

The JSON-LD is written here from the row types; ``mlcroissant`` (a heavy package) is
only needed to check it, which the tests do.

>>> from intermt_schema.publish._rows import RatingRow
>>> [f["name"] for f in record_fields("ratings", RatingRow)][:3]
['tree_id', 'target', 'scope']
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import msgspec.inspect as mi

from ._card import INTERMT_CITATION, CardInfo
from ._shards import SplitShards

__all__ = ["CONTEXT", "croissant", "record_fields"]

CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
"""The JSON-LD context of Croissant 1.1 documents."""

_TYPES = {mi.StrType: "sc:Text", mi.IntType: "sc:Integer", mi.FloatType: "sc:Float",
          mi.BoolType: "sc:Boolean", mi.LiteralType: "sc:Text", mi.DictType: "sc:Text"}  # fmt: skip


def _flat_type(t: mi.Type) -> str | None:
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        return _flat_type(members[0]) if len(members) == 1 else None
    if isinstance(t, mi.Metadata):
        return _flat_type(t.type)
    return _TYPES.get(type(t))


def record_fields(config: str, cls: type) -> list[dict[str, Any]]:
    """The Croissant fields of the flat columns of ``cls`` (strings, numbers, booleans,
    and free-form dicts, stored as JSON text); a struct of flat values gets sub-fields."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    fields: list[dict[str, Any]] = []
    for f in info.fields:
        kind = _flat_type(f.type)
        source = {"fileSet": {"@id": f"{config}-files"}, "extract": {"column": f.name}}
        if kind is not None:
            fields.append({"@type": "cr:Field", "@id": f"{config}/{f.name}", "name": f.name,
                           "dataType": kind, "source": source})  # fmt: skip
        elif isinstance(f.type, mi.StructType):
            subs: list[dict[str, Any]] = [
                {"@type": "cr:Field", "@id": f"{config}/{f.name}/{s.name}", "name": s.name,
                 "dataType": _flat_type(s.type),
                 "source": {**source, "transform": {"jsonPath": s.name}}}
                for s in f.type.fields
                if _flat_type(s.type) is not None and not isinstance(s.type, mi.DictType)
            ]  # fmt: skip
            fields.append({"@type": "cr:Field", "@id": f"{config}/{f.name}", "name": f.name,
                           "subField": subs})  # fmt: skip
    return fields


def _nested(cls: type) -> list[str]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return [
        f.name
        for f in info.fields
        if _flat_type(f.type) is None and not isinstance(f.type, mi.StructType)
    ]


def croissant(
    info: CardInfo,
    written: Mapping[str, Mapping[str, SplitShards]],
    configs: Mapping[str, type],
    *,
    published: datetime.date | None = None,
) -> dict[str, Any]:
    """The Croissant document of a published folder."""
    url = f"https://huggingface.co/datasets/{info.repo_id}" if info.repo_id else None
    distribution = [
        {
            "@type": "cr:FileSet",
            "@id": f"{config}-files",
            "name": f"{config}-files",
            "description": f"Parquet shards of the {config} configuration.",
            "encodingFormat": "application/x-parquet",
            "includes": f"data/{config}/*.parquet",
        }
        for config in written
    ]
    record_sets = []
    for config in written:
        nested = _nested(configs[config])
        about = f"The {config} configuration."
        if nested:
            about += (
                f" Its nested columns ({', '.join(nested)}) are in the same Parquet files; "
                "README.md lists their features."
            )
        record_sets.append({
            "@type": "cr:RecordSet", "@id": config, "name": config, "description": about,
            "field": record_fields(config, configs[config]),
        })  # fmt: skip
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": info.pretty_name,
        "description": info.description
        or (
            "Multi-turn, interleaved text-and-image preference data: dialogue trees with "
            "ratings and judgments, in the intermt-schema canonical form."
        ),
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "citeAs": (info.citation or INTERMT_CITATION).strip(),
        "datePublished": (published or datetime.date.today()).isoformat(),
        "license": info.license,
        "version": info.version,
        "keywords": list(info.tags),
        "inLanguage": list(info.language),
        "distribution": distribution,
        "recordSet": record_sets,
    }
    if url:
        document["url"] = url
    return document
