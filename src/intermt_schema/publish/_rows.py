"""The rows of a published dataset's configurations, one tree at a time.

``trees`` and ``paths`` are the lossless tables of :mod:`intermt_schema.io`; ``pairs``
holds the sampled preference pairs, each with its prompt and both continuations;
``ratings`` and ``judgments`` are flat, one row per rating or judgment, for analytics.
Every row type is a Struct, so its Arrow schema and features derive from the schema.

>>> import intermt_schema as im
>>> q = im.Message(id="q", role="user", content=[im.TextPart("?")])
>>> a = [im.Message(id=f"a{i}", parent="q", role="assistant", content=[im.TextPart(str(i))])
...      for i in range(2)]
>>> pair = im.PreferencePair(tree="t", scope="local", chosen="a1", rejected="a0",
...                          source="judgment", strategy="all", criterion="overall")
>>> row = pair_row(im.DialogueTree(id="t", nodes=[q, *a]), pair)
>>> [m.id for m in row.prompt], [m.id for m in row.chosen], [m.id for m in row.rejected]
(['q'], ['a1'], ['a0'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct, field

from ..io._tables import PathRow, path_rows
from ..sampling.pairs import PreferencePair
from ..schema._structs import DialogueTree, Message, Outcome, Scope, Score
from ..tree._view import TreeView

__all__ = [
    "CONFIGS",
    "JudgmentRow",
    "PairSampleRow",
    "RatingRow",
    "config_rows",
    "pair_row",
]


class PairSampleRow(Struct, kw_only=True):
    """One sampled preference pair: the shared prompt, then the chosen and the rejected
    continuation (one answer each for sibling pairs; the rest of each path for pairs of
    whole paths), with the pair's provenance."""

    tree_id: str
    scope: Scope
    source: str
    strategy: str
    criterion: str
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    chosen_score: float | None = None
    rejected_score: float | None = None
    margin: float | None = None
    tie: bool = False
    seed: int = 0


class RatingRow(Struct, kw_only=True):
    """One rating, flat."""

    tree_id: str
    target: str
    scope: Scope
    dimension: str
    score: Score
    annotator: str | None = None
    rationale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class JudgmentRow(Struct, kw_only=True):
    """One judgment, flat; ``outcomes`` is JSON text in Arrow."""

    tree_id: str
    a: str
    b: str
    scope: Scope
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    overall: Outcome | None = None
    annotator: str | None = None
    rationale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def pair_row(
    tree: DialogueTree, pair: PreferencePair, view: TreeView | None = None
) -> PairSampleRow:
    """The row of one pair sampled from ``tree``: the longest common prefix of the two
    paths is the prompt."""
    view = view or TreeView(tree)
    chosen, rejected = view.path_to(pair.chosen), view.path_to(pair.rejected)
    shared = 0
    while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared].id == rejected[shared].id:
        shared += 1
    return PairSampleRow(
        tree_id=tree.id, scope=pair.scope, source=pair.source, strategy=pair.strategy,
        criterion=pair.criterion, prompt=chosen[:shared], chosen=chosen[shared:],
        rejected=rejected[shared:], chosen_score=pair.chosen_score,
        rejected_score=pair.rejected_score, margin=pair.margin, tie=pair.tie, seed=pair.seed,
    )  # fmt: skip


CONFIGS: dict[str, type] = {
    "trees": DialogueTree,
    "paths": PathRow,
    "pairs": PairSampleRow,
    "ratings": RatingRow,
    "judgments": JudgmentRow,
}
"""The configurations of a published dataset, in card order, and their row types."""


def config_rows(tree: DialogueTree, pairs: Iterable[PreferencePair]) -> dict[str, list[Any]]:
    """The rows ``tree`` (with its sampled ``pairs``) gives in each configuration."""
    view = TreeView(tree)
    return {
        "trees": [tree],
        "paths": list(path_rows([tree])),
        "pairs": [pair_row(tree, p, view) for p in pairs],
        "ratings": [
            RatingRow(
                tree_id=tree.id, target=r.target, scope=r.scope, dimension=r.dimension,
                score=r.score, annotator=r.annotator, rationale=r.rationale, meta=r.meta,
            )
            for r in tree.ratings
        ],
        "judgments": [
            JudgmentRow(
                tree_id=tree.id, a=j.a, b=j.b, scope=j.scope, outcomes=j.outcomes,
                overall=j.overall, annotator=j.annotator, rationale=j.rationale, meta=j.meta,
            )
            for j in tree.judgments
        ],
    }  # fmt: skip
