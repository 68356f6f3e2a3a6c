"""Reading and writing: fsspec access, JSON Lines, Parquet, Arrow rows, path and pair
tables, Hugging Face datasets, and the validating readers of canonical files.

Every reader has one contract: ``validate_path`` and ``Format.load`` never raise on
bad data or an unreadable source, they report it (``file.unreadable``, a rejected
record); ``read_jsonl`` and ``read_parquet`` raise ``SchemaError`` naming the file, the
line or row and the field, for any unreadable or invalid source.
"""

from ._hf import from_hf_dataset, to_hf_dataset
from ._jsonl import read_jsonl, write_jsonl
from ._parquet import read_parquet, write_parquet
from ._readers import validate_path
from ._tables import LEVELS, pairs_table, paths_table, trees_from_paths

__all__ = [
    "LEVELS",
    "from_hf_dataset",
    "pairs_table",
    "paths_table",
    "read_jsonl",
    "read_parquet",
    "to_hf_dataset",
    "trees_from_paths",
    "validate_path",
    "write_jsonl",
    "write_parquet",
]
