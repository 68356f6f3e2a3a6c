"""Edits that return new trees: prune, keep the best branch, map content, and the
aggregate scores they rank by.

>>> import intermt_schema as im
>>> t = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("?")])])
>>> prune(t, lambda m: True).nodes == t.nodes
True
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from msgspec import structs

from ..schema._structs import (
    DialogueTree,
    Message,
    Part,
    media_of,
)
from ._view import TreeView

__all__ = ["aggregate_scores", "keep_best_branch", "map_content", "prune", "rebase_image_paths"]


def aggregate_scores(
    tree: DialogueTree,
    dimensions: Sequence[str] | dict[str, float],
    how: Callable[[list[float]], float] | None = None,
) -> dict[str, float]:
    """One score per rated node: the mean over annotators of each dimension, then the
    (weighted) mean over dimensions. Nodes missing a dimension are left out.

    >>> import intermt_schema as im
    >>> t = im.DialogueTree(id="t", ratings=[
    ...     im.Rating(target="a", scope="local", dimension="text_quality", score=3),
    ...     im.Rating(target="a", scope="local", dimension="text_quality", score=1)])
    >>> aggregate_scores(t, ["text_quality"])
    {'a': 2.0}
    """
    weights = dict(dimensions) if isinstance(dimensions, dict) else dict.fromkeys(dimensions, 1.0)
    combine = how or (lambda xs: sum(xs) / len(xs))
    by_target: dict[str, dict[str, list[float]]] = {}
    for rating in tree.ratings:
        if rating.dimension in weights:
            by_target.setdefault(rating.target, {}).setdefault(rating.dimension, []).append(
                float(rating.score)
            )
    total = sum(weights.values())
    return {
        target: sum(weights[d] * combine(scores[d]) for d in weights) / total
        for target, scores in by_target.items()
        if all(d in scores for d in weights)
    }


def prune(tree: DialogueTree, keep: Callable[[Message], bool]) -> DialogueTree:
    """A new tree without the nodes ``keep`` refuses and everything below them.

    Ratings and judgments whose targets are gone are dropped too, so a valid tree
    stays valid.
    """
    view = TreeView(tree)
    kept: set[str] = set()
    for _, node in view.walk():
        if keep(node) and (node.parent is None or node.parent in kept):
            kept.add(node.id)
    return structs.replace(
        tree,
        nodes=[n for n in tree.nodes if n.id in kept and view.by_id[n.id] is n],
        ratings=[r for r in tree.ratings if r.target in kept],
        judgments=[j for j in tree.judgments if j.a in kept and j.b in kept],
    )


def keep_best_branch(
    tree: DialogueTree, dimensions: Sequence[str] | dict[str, float]
) -> DialogueTree:
    """Keep, at every branch point, only the child with the best aggregate score
    (unscored children count as lowest; ties keep the first in list order)."""
    scores = aggregate_scores(tree, dimensions)
    view = TreeView(tree)
    dropped: set[str] = set()
    for node in view.branch_points():
        children = view.children(node.id)
        best = max(children, key=lambda c: scores.get(c.id, float("-inf")))
        dropped.update(c.id for c in children if c is not best)
    return prune(tree, lambda n: n.id not in dropped)


def map_content(tree: DialogueTree, fn: Callable[[Message], list[Part]]) -> DialogueTree:
    """A new tree whose every message's content is ``fn(message)``."""
    return structs.replace(tree, nodes=[structs.replace(n, content=fn(n)) for n in tree.nodes])


def rebase_image_paths(tree: DialogueTree, folder: str) -> DialogueTree:
    """The tree with each relative image, video and audio path put under ``folder`` (a
    relative POSIX path): paths relative to a data file's folder become relative to a
    folder above it.

    >>> import intermt_schema as im
    >>> t = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user",
    ...     content=[im.ImagePart(image=im.ImageRef(path="images/a.png"))])])
    >>> next(rebase_image_paths(t, "data").images()).path
    'data/images/a.png'
    """
    if folder in ("", "."):
        return tree

    def moved(message: Message) -> list[Part]:
        parts = []
        for p in message.content:
            found = media_of(p)  # images, videos and audio clips alike
            if found is not None and found[1].path and not found[1].path.startswith("/"):
                kind, ref = found
                ref = structs.replace(ref, path=posixpath.join(folder, ref.path or ""))
                p = structs.replace(p, **{kind: ref})
            parts.append(p)
        return parts

    return map_content(tree, moved)
