"""InterMT release layouts: flat turns, score evaluation, pair comparison, upstream QA.

Each record is one root-to-leaf path (or, for pairs, a path with two final answers);
importing merges the records of one tree by ``prompt_uuid``/``response_uuid``, or by
content where a layout has no uuids. Exporting writes one record per rated path (flat,
score), per judgment (pair) or per path (upstream).

- ``""`` image slots are dropped; a missing image key means no images.
- ``<Image, description>`` placeholders in answers become image parts at their place
  when their count equals the images'; the exact strings are kept in the message's
  ``meta["intermt_placeholders"]`` so export writes the text back unchanged. When the
  counts differ the text stays verbatim, the images are appended, and
  ``import.placeholder_mismatch`` is reported.
- Text is never changed: pipeline leftovers such as ``]]`` stay.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...schema._structs import DialogueTree
from .._registry import Format, LossReport, register_format
from ._export import records
from ._import import load
from ._layouts import LAYOUTS, PLACEHOLDER, VARIANTS_META, Layout, detect_layout

__all__ = [
    "FORMAT",
    "LAYOUTS",
    "PLACEHOLDER",
    "VARIANTS_META",
    "detect_layout",
    "export",
    "load",
    "records",
]


FORMAT = register_format(
    Format(
        name="intermt-bench",
        lossless=False,
        reader=load,
        suffix=".json",
        records=records,
        array=True,
        description="InterMT release records: flat turns, score evaluation, pair comparison, "
        "upstream QA (--layout)",
        export_options={"layout": LAYOUTS},
        load_options={"layout": LAYOUTS},
        detect=lambda record: detect_layout(record) is not None,
    )
)


def export(trees: Iterable[DialogueTree], url: str, layout: Layout = "flat") -> LossReport:
    """Write trees as InterMT records (a JSON array, as the release ships them); image
    paths are written as stored, relative to the dataset root."""
    return FORMAT.export(trees, url, layout=layout)
