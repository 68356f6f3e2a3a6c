"""The JSON Schema of the canonical tree, generated from the msgspec Structs.

``spec/intermt-tree.v1.schema.json`` holds its output; a test keeps the file current.
Regenerate it with ``intermt schema > spec/intermt-tree.v1.schema.json``.

>>> json_schema()["$schema"]
'https://json-schema.org/draft/2020-12/schema'
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ._structs import SCHEMA_VERSION, DialogueTree

__all__ = ["json_schema", "json_schema_text"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one canonical tree record."""
    schema = msgspec.json.schema(DialogueTree)
    for definition in schema["$defs"].values():
        if "description" in definition:  # the docstring's summary, without examples
            summary = definition["description"].split("\n\n")[0]
            definition["description"] = " ".join(summary.split())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://intermt-schema.dev/spec/intermt-tree.v1.schema.json",
        "title": f"InterMT dialogue tree, canonical schema v{SCHEMA_VERSION}",
        **schema,
    }


def json_schema_text() -> str:
    """The schema as stable, indented JSON text with a trailing newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
