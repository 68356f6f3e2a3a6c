"""Sample preference pairs from ratings and judgments, and write them for TRL.

python examples/sample_pairs.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import intermt_schema as im
from intermt_schema.formats import get_format
from intermt_schema.sampling.pairs import apply_pairs, sample_pairs

DATA = Path(__file__).resolve().parent / "data"


def main(out: Path) -> int:
    trees = list(im.read_jsonl(str(DATA / "trees.jsonl")))
    for strategy in ("all", "best_worst", "best_rest", "best_random"):
        pairs, _ = sample_pairs(trees, strategy=strategy, seed=7)
        print(f"{strategy:<12} {len(pairs):>4} pairs")

    # local pairs of sibling answers, by a weighted criterion, with a margin
    pairs, report = sample_pairs(
        trees,
        scope="local",
        source="ratings",
        strategy="best_rest",
        criterion={"text_quality": 2.0, "context_coherence": 1.0},
        margin=0.5,
        seed=7,
    )
    print(report.render())
    first = pairs[0]
    print(
        f"e.g. {first.chosen} ({first.chosen_score:g}) over {first.rejected} "
        f"({first.rejected_score:g}) in {first.tree}, margin {first.margin:g}"
    )
    loss = get_format("trl").export(
        apply_pairs(trees, pairs),
        str(out / "pairs_trl.jsonl"),
        mode="preference",
        source_root=str(DATA),
    )
    print(loss.render())
    return 0 if loss.records == len(pairs) else 1


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/pairs")))
