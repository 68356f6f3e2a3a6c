"""Hypothesis strategies for testing this library and pipelines built on it: dialogue
trees (:func:`trees`), their parts, and files of the formats of other tools
(:func:`format_samples`).

Requires ``hypothesis`` (``pip install 'intermt-schema[dev]'``).

>>> from hypothesis import given
>>> from intermt_schema import validate
>>> @given(trees())
... def test_generated_trees_are_valid(tree):
...     assert validate(tree).ok
>>> test_generated_trees_are_valid()
"""

from ._corruptions import CORRUPTIONS, deep_trees
from ._records import RECORD_FORMATS, FormatSample, format_samples
from ._trees import (
    image_refs,
    json_values,
    media_refs,
    parts,
    texts,
    tool_calls,
    trees,
)

__all__ = ["CORRUPTIONS", "RECORD_FORMATS", "FormatSample", "deep_trees", "format_samples",
           "image_refs", "json_values", "media_refs", "parts", "texts", "tool_calls",
           "trees"]  # fmt: skip
