"""intermt-schema: typed trees of multi-turn, interleaved image-text preference data.

>>> import intermt_schema as im
>>> tree = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("What is this?")]),
...     im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("A cat.")]),
... ])
>>> im.validate(tree).ok
True
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._derive import pydantic_model
from ._dimensions import (
    INTERMT,
    Dimension,
    DimensionSet,
    available_dimension_sets,
    get_dimension_set,
    register_dimension_set,
)
from ._errors import (
    ConversionError,
    IntermtError,
    MissingDependencyError,
    SchemaError,
    UnknownNameError,
)
from ._images import ImageLimits
from ._jsonl import read_jsonl, write_jsonl
from ._parquet import read_parquet, write_parquet
from ._records import validate_path
from ._report import Issue, RecordResult, Report
from ._schema import (
    SCHEMA_VERSION,
    DialogueTree,
    Generator,
    ImagePart,
    ImageRef,
    Judgment,
    Message,
    Part,
    Rating,
    TextPart,
    TreeMeta,
    decode_tree,
    encode_tree,
)
from ._validate import RULES, ValidationOptions, decode_and_validate, validate

__all__ = [
    "INTERMT",
    "RULES",
    "SCHEMA_VERSION",
    "ConversionError",
    "DialogueTree",
    "Dimension",
    "DimensionSet",
    "Generator",
    "ImageLimits",
    "ImagePart",
    "ImageRef",
    "IntermtError",
    "Issue",
    "Judgment",
    "Message",
    "MissingDependencyError",
    "Part",
    "Rating",
    "RecordResult",
    "Report",
    "SchemaError",
    "TextPart",
    "TreeMeta",
    "UnknownNameError",
    "ValidationOptions",
    "__version__",
    "available_dimension_sets",
    "decode_and_validate",
    "decode_tree",
    "encode_tree",
    "get_dimension_set",
    "pydantic_model",
    "read_jsonl",
    "read_parquet",
    "register_dimension_set",
    "validate",
    "validate_path",
    "write_jsonl",
    "write_parquet",
]


def __dir__() -> list[str]:
    return __all__
