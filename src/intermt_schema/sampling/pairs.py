"""Preference pairs from trees: human judgments used directly, or pairs derived from
ratings, locally (sibling answers) and globally (paths of one tree).

Every pair carries its provenance; everything that could not form a pair is counted
in the report by reason. A score of ``-1`` (``style_coherence``: image generation
was required but no image was given) means "not applicable": it is left out of
aggregates and counted, never compared as a low score.

>>> import intermt_schema as im
>>> q = im.Message(id="q", role="user", content=[im.TextPart("?")])
>>> a = [im.Message(id=f"a{i}", parent="q", role="assistant", content=[im.TextPart(str(i))])
...      for i in range(2)]
>>> t = im.DialogueTree(id="t", nodes=[q, *a], ratings=[
...     im.Rating(target="a0", scope="local", dimension="text_quality", score=1),
...     im.Rating(target="a1", scope="local", dimension="text_quality", score=3)])
>>> pairs, report = sample_pairs([t], criterion="text_quality", source="ratings")
>>> [(p.chosen, p.rejected, p.margin) for p in pairs]
[('a1', 'a0', 2.0)]
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from msgspec import Struct, structs

from ._criteria import (
    MISSING,
    Aggregate,
    Criterion,
    PairOptions,
    PairReport,
    Strategy,
    _aggregate,
    _compare,
    _criterion_name,
    _dimensions,
    _key,
    check_pair_options,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

from ..schema._structs import DialogueTree, Judgment, Outcome, Scope

__all__ = ["PairReport", "PreferencePair", "apply_pairs", "iter_pairs", "sample_pairs"]


class PreferencePair(Struct, frozen=True, kw_only=True):
    """One chosen/rejected pair and where it came from."""

    tree: str
    scope: Scope
    chosen: str
    rejected: str
    source: Literal["judgment", "ratings"]
    strategy: str
    criterion: str
    chosen_score: float | None = None
    rejected_score: float | None = None
    margin: float | None = None
    tie: bool = False
    seed: int = 0


def _rng(seed: int, *parts: str) -> random.Random:
    """A generator that depends only on the seed and the group, never on input order."""
    digest = hashlib.sha256("\x00".join([str(seed), *parts]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _rating_pairs(
    tree: DialogueTree,
    scope: Scope,
    criterion: Criterion,
    dims: list[str],
    strategy: Strategy,
    margin: float,
    ties: str,
    how: Aggregate,
    cap: int | None,
    seed: int,
    report: PairReport,
) -> list[PreferencePair]:
    parents: dict[str, str | None] = {}
    for node in tree.nodes:
        parents.setdefault(node.id, node.parent)
    wanted = set(dims)
    raw: dict[str, dict[str, list[int | float]]] = {}
    counts: dict[str, int] = {}  # the ratings kept per target
    for rating in tree.ratings:
        if rating.scope != scope:
            continue
        if rating.dimension not in wanted:
            report.unpaired_ratings["dimension not in the criterion"] += 1
        elif rating.score == -1:
            report.unpaired_ratings["not applicable (-1)"] += 1
        elif rating.target not in parents:
            report.unpaired_ratings["target missing"] += 1
        else:
            target = rating.target
            by_dim = raw.get(target)
            if by_dim is None:
                by_dim = raw[target] = {}
                counts[target] = 0
            by_dim.setdefault(rating.dimension, []).append(rating.score)
            counts[target] += 1
    scored: dict[str, tuple[float, ...]] = {}
    for target, by_dim in raw.items():
        if len(by_dim) == len(wanted):  # every dimension (by_dim holds wanted ones alone)
            scored[target] = _key(criterion, {d: _aggregate(v, how) for d, v in by_dim.items()})
        else:
            rated = ", ".join(sorted(by_dim))
            report.unpaired_ratings[f"{MISSING} (rated: {rated})"] += counts[target]
    groups: dict[str, list[str]] = {}
    for target in scored:
        group = (parents[target] or "") if scope == "local" else ""
        groups.setdefault(group, []).append(target)
    pairs: list[PreferencePair] = []
    used: set[str] = set()
    name = _criterion_name(criterion)
    for group, members in groups.items():
        members.sort(key=lambda t: (scored[t], t), reverse=True)
        if len(members) < 2:
            reason = "no rated sibling" if scope == "local" else "no other rated path"
            report.unpaired_ratings[reason] += counts[members[0]]
            continue
        if strategy == "all":
            candidates = list(itertools.combinations(members, 2))
        elif strategy == "best_worst":
            candidates = [(members[0], members[-1])]
        elif strategy == "best_rest":
            candidates = [(members[0], m) for m in members[1:]]
        else:
            candidates = [(members[0], _rng(seed, tree.id, group).choice(members[1:]))]
        made = []
        for a, b in candidates:
            diff = _compare(criterion, scored[a], scored[b])
            if diff is None:  # neither dominates
                continue
            if diff < 0:
                a, b, diff = b, a, -diff
            tie = diff == 0
            if tie and ties == "drop":
                continue
            if not tie and diff < margin:
                continue
            made.append(
                PreferencePair(
                    tree=tree.id,
                    scope=scope,
                    chosen=a,
                    rejected=b,
                    source="ratings",
                    strategy=strategy,
                    criterion=name,
                    chosen_score=scored[a][0],
                    rejected_score=scored[b][0],
                    margin=float(diff),
                    tie=tie,
                    seed=seed,
                )
            )
        made.sort(key=lambda p: (-(p.margin or 0), p.chosen, p.rejected))
        if cap is not None and len(made) > cap:
            report.produced["capped per branch point"] += len(made) - cap
            made = made[:cap]
        for p in made:
            used.update((p.chosen, p.rejected))
        pairs += made
    paired = {t for members in groups.values() if len(members) > 1 for t in members}
    for target in scored:
        if target not in used and target in paired:
            report.unpaired_ratings[
                "not chosen by the strategy (margin, tie, cap, draw, pareto)"
            ] += counts[target]
    report.ratings_used += sum(counts[t] for t in used)
    return pairs


def _judgment_pairs(
    tree: DialogueTree,
    scopes: set[Scope],
    criterion: Criterion,
    ties: str,
    seed: int,
    report: PairReport,
) -> list[PreferencePair]:
    if not tree.judgments:
        return []
    ids = {n.id for n in tree.nodes}
    name = criterion if isinstance(criterion, str) else _criterion_name(criterion)
    votes: dict[tuple[Scope, str, str], list[Outcome]] = {}
    for judgment in tree.judgments:
        if judgment.scope not in scopes:
            report.unpaired_judgments["scope not requested"] += 1
            continue
        if judgment.a == judgment.b or judgment.a not in ids or judgment.b not in ids:
            report.unpaired_judgments["invalid targets"] += 1
            continue
        outcome = judgment.outcome(name)
        if outcome is None:
            report.unpaired_judgments[f"no outcome for {name!r}"] += 1
            continue
        a, b = judgment.a, judgment.b
        if b < a:  # one key per unordered pair; the outcome follows the order
            a, b = b, a
            outcome = "b" if outcome == "a" else "a" if outcome == "b" else outcome
        votes.setdefault((judgment.scope, a, b), []).append(outcome)
    pairs = []
    for (scope, a, b), outcomes in votes.items():
        for_a, for_b = outcomes.count("a"), outcomes.count("b")
        if for_a == for_b:
            if ties == "drop":
                report.unpaired_judgments["tied"] += len(outcomes)
                continue
            winner, loser, tie = a, b, True
        else:
            winner, loser = (a, b) if for_a > for_b else (b, a)
            tie = False
        report.judgments_used += len(outcomes)
        pairs.append(
            PreferencePair(
                tree=tree.id,
                scope=scope,
                chosen=winner,
                rejected=loser,
                source="judgment",
                strategy="judgment",
                criterion=name,
                tie=tie,
                seed=seed,
            )
        )
    return pairs


def iter_pairs(
    trees: Iterable[DialogueTree],
    report: PairReport | None = None,
    *,
    scope: Literal["local", "global", "both"] = "both",
    source: Literal["judgments", "ratings", "both"] = "both",
    strategy: Strategy = "best_worst",
    criterion: Criterion = "overall",
    dimensions: Sequence[str] = (),
    margin: float = 0.0,
    ties: Literal["drop", "keep"] = "drop",
    aggregate: Aggregate = "mean",
    cap_per_branch: int | None = None,
    cap_per_tree: int | None = None,
    seed: int = 0,
) -> Iterator[tuple[DialogueTree, list[PreferencePair]]]:
    """Each tree with its preference pairs, streaming; ``report`` accumulates the
    accounting of every rating and judgment as the trees go by. Deterministic for a
    seed: a tree's pairs depend only on the tree and the options.

    - ``scope``: pairs of sibling answers (local), of paths of one tree (global), both.
    - ``source``: human judgments, ratings, or both.
    - ``strategy``: ``all`` pairs, ``best_worst``, ``best_rest`` or ``best_random``.
    - ``criterion``: ``overall``, one dimension, ``{dimension: weight}``, a list of
      dimensions (lexicographic), or ``pareto`` over ``dimensions``.
    - ``margin``: the least score difference; ``ties``: drop or keep them.
    - ``aggregate``: how several annotators' scores combine.
    - ``cap_per_branch`` and ``cap_per_tree`` bound the pairs made.

    With ``criterion="overall"``, judgments use their overall outcome and ratings use
    the unweighted mean of every dimension of the scope. A pair from a judgment wins
    over the same pair derived from ratings (the duplicate is counted). A bad option
    raises ``OptionError`` at the call, before any tree is read.
    """
    check_pair_options(PairOptions(
        scope=scope, source=source, strategy=strategy, criterion=criterion,
        dimensions=dimensions, margin=margin, ties=ties, aggregate=aggregate,
        cap_per_branch=cap_per_branch, cap_per_tree=cap_per_tree, seed=seed,
    ))  # fmt: skip
    return _iter_pairs(
        trees, PairReport() if report is None else report, scope, source, strategy,
        criterion, dimensions, margin, ties, aggregate, cap_per_branch, cap_per_tree, seed,
    )  # fmt: skip


def _iter_pairs(
    trees: Iterable[DialogueTree],
    report: PairReport,
    scope: Literal["local", "global", "both"],
    source: Literal["judgments", "ratings", "both"],
    strategy: Strategy,
    criterion: Criterion,
    dimensions: Sequence[str],
    margin: float,
    ties: Literal["drop", "keep"],
    aggregate: Aggregate,
    cap_per_branch: int | None,
    cap_per_tree: int | None,
    seed: int,
) -> Iterator[tuple[DialogueTree, list[PreferencePair]]]:
    from ..schema._dimensions import INTERMT

    scopes: set[Scope] = {"local", "global"} if scope == "both" else {scope}
    for tree in trees:
        found: list[PreferencePair] = []
        if source in ("judgments", "both"):
            found += _judgment_pairs(tree, scopes, criterion, ties, seed, report)
        else:
            report.unpaired_judgments["judgments not requested"] += len(tree.judgments)
        if source in ("ratings", "both"):
            for sc in sorted(scopes):
                crit: Criterion = criterion
                if criterion == "overall":
                    crit = {d.key: 1.0 for d in INTERMT.of_scope(sc)}
                dims = _dimensions(crit, dimensions)
                found += _rating_pairs(
                    tree,
                    sc,
                    crit,
                    dims,
                    strategy,
                    margin,
                    ties,
                    aggregate,
                    cap_per_branch,
                    seed,
                    report,
                )
            skipped = sum(1 for r in tree.ratings if r.scope not in scopes)
            if skipped:
                report.unpaired_ratings["scope not requested"] += skipped
        else:
            report.unpaired_ratings["ratings not requested"] += len(tree.ratings)
        seen: set[tuple[str, frozenset[str]]] = set()
        unique = []
        for p in found:
            key = (p.scope, frozenset((p.chosen, p.rejected)))
            if key in seen:
                report.produced["duplicates removed"] += 1
                continue
            seen.add(key)
            unique.append(p)
        if cap_per_tree is not None and len(unique) > cap_per_tree:
            report.produced["capped per tree"] += len(unique) - cap_per_tree
            unique = unique[:cap_per_tree]
        for p in unique:
            report.produced[f"{p.source}:{p.strategy}"] += 1
        yield tree, unique


def sample_pairs(
    trees: Iterable[DialogueTree], **options: Unpack[PairOptions]
) -> tuple[list[PreferencePair], PairReport]:
    """All the pairs of :func:`iter_pairs` (which takes the same ``options``) in one
    list, with their report; deterministic for a seed, whatever the chunking."""
    check_pair_options(options)
    report = PairReport()
    pairs = [p for _, found in iter_pairs(trees, report, **options) for p in found]
    return pairs, report


def apply_pairs(
    trees: Iterable[DialogueTree], pairs: Iterable[PreferencePair]
) -> list[DialogueTree]:
    """Trees whose judgments are the given pairs (chosen as ``a``, ``overall="a"``, or
    ``"tie"``), with the provenance in ``meta`` -- ready for any pair exporter."""
    by_tree: dict[str, list[PreferencePair]] = {}
    for p in pairs:
        by_tree.setdefault(p.tree, []).append(p)
    result = []
    for tree in trees:
        judgments = [
            Judgment(
                a=p.chosen,
                b=p.rejected,
                scope=p.scope,
                overall="tie" if p.tie else "a",
                meta={
                    "pair": {
                        "source": p.source,
                        "strategy": p.strategy,
                        "criterion": p.criterion,
                        "chosen_score": p.chosen_score,
                        "rejected_score": p.rejected_score,
                        "margin": p.margin,
                        "seed": p.seed,
                    }
                },
            )
            for p in by_tree.get(tree.id, [])
        ]
        result.append(structs.replace(tree, judgments=judgments))
    return result
