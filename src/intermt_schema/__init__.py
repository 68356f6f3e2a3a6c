"""intermt-schema: typed trees of multi-turn, interleaved image-text preference data.

>>> import intermt_schema as im
>>> tree = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("What is this?")]),
...     im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("A cat.")]),
... ])
>>> im.validate(tree).ok
True

The layers, each a folder, each depending only on those before it: ``schema`` →
``validation`` → ``tree`` → ``io`` → ``formats`` → ``sampling`` → ``scale`` →
``publish`` → ``viewer`` → ``cli``. Everything a user needs is re-exported here.
"""

from __future__ import annotations

__version__ = "0.1.0"

import types
from typing import TYPE_CHECKING, Any

from ._errors import (
    ConversionError,
    IntermtError,
    MissingDependencyError,
    OptionError,
    ReadError,
    SchemaError,
    UnknownNameError,
    ValidationError,
    WriteError,
)
from .formats import (
    ExportOptions,
    Format,
    ImportResult,
    LoadOptions,
    LossReport,
    available_formats,
    detect_format,
    get_format,
    register_format,
)
from .io import (
    from_hf_dataset,
    pairs_table,
    paths_table,
    read_jsonl,
    read_parquet,
    to_hf_dataset,
    trees_from_paths,
    validate_path,
    write_jsonl,
    write_parquet,
)
from .publish import CardInfo, PublishReport, publish_dataset, publish_ray, push_to_hub
from .sampling._criteria import Aggregate, Criterion, PairOptions, Strategy
from .sampling.pairs import (
    PairReport,
    PreferencePair,
    apply_pairs,
    iter_pairs,
    sample_pairs,
)
from .sampling.splits import split_trees
from .sampling.stats import tree_stats
from .schema import (
    INTERMT,
    KTO,
    OASST,
    SCHEMA_VERSION,
    AudioPart,
    DialogueTree,
    Dimension,
    DimensionSet,
    Generator,
    ImagePart,
    ImageRef,
    Judgment,
    MediaRef,
    Message,
    Outcome,
    Part,
    Rating,
    ReasoningPart,
    Role,
    Scope,
    TextPart,
    ToolCallPart,
    TreeMeta,
    VideoPart,
    available_dimension_sets,
    decode_tree,
    dimensions_of,
    encode_tree,
    get_dimension_set,
    lowest_version,
    register_dimension_set,
)
from .tree import Conversation, TreeView, merge_paths, same_tree, split_paths
from .validation import (
    RULES,
    ImageLimits,
    Issue,
    RecordResult,
    Report,
    ValidationOptions,
    decode_and_validate,
    validate,
)

if TYPE_CHECKING:
    from .schema._pydantic import pydantic_model

__all__ = [
    "INTERMT",
    "KTO",
    "OASST",
    "RULES",
    "SCHEMA_VERSION",
    "Aggregate",
    "AudioPart",
    "CardInfo",
    "Conversation",
    "ConversionError",
    "Criterion",
    "DialogueTree",
    "Dimension",
    "DimensionSet",
    "ExportOptions",
    "Format",
    "Generator",
    "ImageLimits",
    "ImagePart",
    "ImageRef",
    "ImportResult",
    "IntermtError",
    "Issue",
    "Judgment",
    "LoadOptions",
    "LossReport",
    "MediaRef",
    "Message",
    "MissingDependencyError",
    "OptionError",
    "Outcome",
    "PairOptions",
    "PairReport",
    "Part",
    "PreferencePair",
    "PublishReport",
    "Rating",
    "ReadError",
    "ReasoningPart",
    "RecordResult",
    "Report",
    "Role",
    "SchemaError",
    "Scope",
    "Strategy",
    "TextPart",
    "ToolCallPart",
    "TreeMeta",
    "TreeView",
    "UnknownNameError",
    "ValidationError",
    "ValidationOptions",
    "VideoPart",
    "WriteError",
    "__version__",
    "apply_pairs",
    "available_dimension_sets",
    "available_formats",
    "decode_and_validate",
    "decode_tree",
    "detect_format",
    "dimensions_of",
    "encode_tree",
    "from_hf_dataset",
    "get_dimension_set",
    "get_format",
    "iter_pairs",
    "lowest_version",
    "merge_paths",
    "pairs_table",
    "paths_table",
    "publish_dataset",
    "publish_ray",
    "push_to_hub",
    "pydantic_model",
    "read_jsonl",
    "read_parquet",
    "register_dimension_set",
    "register_format",
    "same_tree",
    "sample_pairs",
    "split_paths",
    "split_trees",
    "to_hf_dataset",
    "tree_stats",
    "trees_from_paths",
    "validate",
    "validate_path",
    "write_jsonl",
    "write_parquet",
]


def __getattr__(name: str) -> Any:
    """Import pydantic only when its models are asked for."""
    if name == "pydantic_model":
        from .schema._pydantic import pydantic_model

        pydantic_model.__module__ = __name__
        return pydantic_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


def _publish() -> None:
    """Show public functions and exceptions as ``intermt_schema.X`` in reprs and
    tracebacks. Classes with annotations keep their module: msgspec, dataclasses and
    ``typing.get_type_hints`` resolve annotations in the module that defines them."""
    for name in __all__:
        value = globals().get(name)
        public = isinstance(value, types.FunctionType) or (
            isinstance(value, type) and issubclass(value, BaseException)
        )
        if public and getattr(value, "__module__", "").startswith(__name__ + "."):
            value.__module__ = __name__


_publish()
