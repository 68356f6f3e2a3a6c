"""Path-level and pair-level tables, for analytics (pyarrow, DuckDB, polars) and for
Hugging Face datasets.

- **Paths**: one row per root-to-leaf conversation (``split_paths``): the messages
  with their interleaved parts, and the ratings and judgments that belong to it, each
  once. ``trees_from_paths`` merges the rows back into the same trees: lossless.
- **Pairs**: one row per judgment between siblings: the shared prompt, both answers,
  the outcome per dimension (JSON text) and the overall outcome. A view, not lossless.

Both derive their Arrow schema from Structs, like the tree table.

>>> import intermt_schema as im
>>> tree = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("?")])])
>>> paths_table([tree]).num_rows
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from msgspec import Struct, field

from ..schema._structs import DialogueTree, Judgment, Message, Outcome, Rating, Scope, TreeMeta
from ..tree._merge import Conversation, merge_paths, split_paths
from ..tree._view import TreeView
from ..validation._images import MediaEmbedder
from ._arrow import arrow_schema, from_row
from ._columns import to_table

__all__ = [
    "LEVELS",
    "LEVEL_ROWS",
    "Level",
    "PairRow",
    "PathRow",
    "embedded",
    "pair_rows",
    "pairs_table",
    "path_rows",
    "paths_table",
    "trees_from_paths",
    "without_bytes",
]

Level = Literal["tree", "path", "pair"]
LEVELS: tuple[Level, ...] = ("tree", "path", "pair")
"""Table levels: one row per tree (lossless), per path (lossless) or per pair (a view)."""


class PathRow(Struct, kw_only=True):
    """One root-to-leaf conversation of a tree, with what belongs to it."""

    tree_id: str
    end: str
    turns: int
    meta: TreeMeta = field(default_factory=TreeMeta)
    messages: list[Message] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)


class PairRow(Struct, kw_only=True):
    """One judgment between two sibling answers, with their shared prompt."""

    tree_id: str
    scope: Scope
    prompt: list[Message]
    a: Message
    b: Message
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    overall: Outcome | None = None
    annotator: str | None = None
    rationale: str | None = None


def path_rows(trees: Iterable[DialogueTree]) -> Iterator[PathRow]:
    for tree in trees:
        for conv in split_paths(tree):
            yield PathRow(
                tree_id=tree.id, end=conv.messages[-1].id, meta=tree.meta,
                turns=sum(1 for m in conv.messages if m.role == "user"),
                messages=conv.messages, ratings=conv.ratings, judgments=conv.judgments,
            )  # fmt: skip


def pair_rows(trees: Iterable[DialogueTree]) -> Iterator[PairRow]:
    for tree in trees:
        view = TreeView(tree)
        for j in tree.judgments:
            siblings = view.sibling_pair(j.a, j.b)
            if siblings is None:
                continue
            a, b = siblings
            yield PairRow(
                tree_id=tree.id, scope=j.scope, prompt=view.path_to(a.parent or ""), a=a, b=b,
                outcomes=j.outcomes, overall=j.overall, annotator=j.annotator,
                rationale=j.rationale,
            )  # fmt: skip


LEVEL_ROWS: dict[str, tuple[type, Callable[[DialogueTree], list[Any]]]] = {
    "tree": (DialogueTree, lambda tree: [tree]),
    "path": (PathRow, lambda tree: list(path_rows([tree]))),
    "pair": (PairRow, lambda tree: list(pair_rows([tree]))),
}
"""Each level's row type, and the rows one tree gives."""


def _table(rows: Iterable[Struct], cls: type, hf_images: bool = True) -> Any:
    return to_table(rows, arrow_schema(hf_images, cls))


def paths_table(trees: Iterable[DialogueTree], images_root: str | None = None) -> Any:
    """A ``pyarrow.Table`` with one row per root-to-leaf path; ``images_root`` embeds
    image files (``Image`` features are declared when every image has its bytes)."""
    items = embedded(trees, images_root)
    return _table(path_rows(items), PathRow, not any(map(without_bytes, items)))


def pairs_table(trees: Iterable[DialogueTree], images_root: str | None = None) -> Any:
    """A ``pyarrow.Table`` with one row per judgment between siblings (``images_root``
    as in :func:`paths_table`)."""
    items = embedded(trees, images_root)
    return _table(pair_rows(items), PairRow, not any(map(without_bytes, items)))


def embedded(trees: Iterable[DialogueTree], images_root: str | None) -> list[DialogueTree]:
    """The trees, with the image files under ``images_root`` embedded as bytes."""
    return list(map(MediaEmbedder(images_root), trees))


def without_bytes(tree: DialogueTree) -> bool:
    """Whether some image of ``tree`` carries no bytes."""
    return any(image.bytes is None for image in tree.images())


def trees_from_paths(table: Any) -> list[DialogueTree]:
    """The trees a paths table holds (its inverse: lossless up to list order)."""
    conversations = []
    for batch in table.to_batches(max_chunksize=256):
        for row in batch.to_pylist():
            path = from_row(PathRow, row)
            conversations.append(Conversation(
                messages=path.messages, tree_id=path.tree_id, meta=path.meta,
                ratings=path.ratings, judgments=path.judgments,
            ))  # fmt: skip
    return merge_paths(conversations).trees
