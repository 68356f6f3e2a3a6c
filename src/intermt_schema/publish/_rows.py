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

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from msgspec import Struct, field, structs

from ..io._arrow import arrow_schema
from ..io._columns import flat_table, gathered, to_table
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
    "config_tables",
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
    return {
        "trees": [tree],
        **_message_rows(tree, pairs),
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


def _message_rows(tree: DialogueTree, pairs: Iterable[PreferencePair]) -> dict[str, list[Any]]:
    """The rows of the configurations whose rows hold messages: paths and pairs."""
    view = TreeView(tree)
    return {"paths": list(path_rows([tree])), "pairs": [pair_row(tree, p, view) for p in pairs]}


GATHERED: dict[str, dict[str, tuple[str, str]]] = {
    "paths": {
        "messages": ("nodes", "parent"),  # a path's messages stand alone (split_paths)
        "ratings": ("ratings", ""),
        "judgments": ("judgments", ""),
    },
    "pairs": {name: ("nodes", "") for name in ("prompt", "chosen", "rejected")},
}
"""Per configuration, the lists taken from the trees' own: the field, the trees' field
it takes from, and a field its items leave null."""

_KEYS: dict[str, Callable[[Any], Any]] = {"nodes": attrgetter("id"), "ratings": id, "judgments": id}
"""How the items of a row are found among their tree's: messages by id (a path's are
copies), ratings and judgments as the same objects."""


def config_tables(
    trees: Sequence[DialogueTree], pairs: Iterable[Iterable[PreferencePair]]
) -> dict[str, Any]:
    """The rows of :func:`config_rows` for several trees, as one Arrow table per
    configuration. Each message, rating and judgment is converted once, in the trees
    table; the paths and pairs take theirs from it. The ratings and judgments tables
    are read column by column.

    >>> import intermt_schema as im
    >>> q = im.Message(id="q", role="user", content=[im.TextPart("?")])
    >>> tables = config_tables([im.DialogueTree(id="t", nodes=[q])], [[]])
    >>> tables["paths"].column("messages").to_pylist()[0][0]["id"]
    'q'
    """
    rows: dict[str, list[Any]] = {config: [] for config in GATHERED}
    positions: dict[str, dict[str, list[list[int]]]] = {
        config: {name: [] for name in names} for config, names in GATHERED.items()
    }
    first = dict.fromkeys(_KEYS, 0)  # the position of the tree's first item of each pool
    for tree, tree_pairs in zip(trees, pairs, strict=True):
        at: dict[str, dict[Any, int]] = {pool: {} for pool in _KEYS}
        for pool, key in _KEYS.items():  # the first of a repeated id, as TreeView holds it
            for k, item in enumerate(getattr(tree, pool)):
                at[pool].setdefault(key(item), first[pool] + k)
        for pool in first:
            first[pool] += len(getattr(tree, pool))
        found = _message_rows(tree, tree_pairs)
        for config, names in GATHERED.items():
            empty: dict[str, list[Any]] = {name: [] for name in names}
            for row in found[config]:
                for name, (pool, _) in names.items():
                    key, where = _KEYS[pool], at[pool]
                    positions[config][name].append([where[key(x)] for x in getattr(row, name)])
                rows[config].append(structs.replace(row, **empty))
    tables = {"trees": to_table(list(trees), arrow_schema(False, DialogueTree))}
    tables.update((c, to_table(rows[c], arrow_schema(False, CONFIGS[c]))) for c in GATHERED)
    pools = {pool: tables["trees"].column(pool).combine_chunks().flatten() for pool in first}
    for config, names in GATHERED.items():
        table = tables[config]
        for name, (pool, without) in names.items():
            index = table.schema.get_field_index(name)
            column = gathered(pools[pool], positions[config][name],
                              table.schema.field(index).type, without=without)  # fmt: skip
            table = table.set_column(index, table.schema.field(index), column)
        tables[config] = table
    for config in ("ratings", "judgments"):  # each a tree's field of that name, flat
        items = [item for tree in trees for item in getattr(tree, config)]
        ids = [tree.id for tree in trees for _ in getattr(tree, config)]
        cls = CONFIGS[config]
        tables[config] = flat_table(items, cls, arrow_schema(False, cls), {"tree_id": ids})
    return {config: tables[config] for config in CONFIGS}
