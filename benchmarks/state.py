"""Bytes held per tree by the state a whole-corpus pass keeps (what grows with the
corpus while ``publish`` streams): split keys, record lengths, tree ids; held when built,
and at the peak while building.

    python benchmarks/state.py [--trees 15600]

Measured with ``tracemalloc`` on the synthetic corpus (``corpus.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import write_corpus

import intermt_schema as im
from intermt_schema.io._readers import TreeIds
from intermt_schema.sampling._lengths import RecordLengths
from intermt_schema.sampling.splits import SplitPlanner, group_keys, packed_keys

GROUPS = ("tree", "prompt", "image")


def held(build: Callable[[], object], trees: int) -> tuple[float, float]:
    """The bytes per tree that what ``build`` returns holds, and that were held at the
    peak while it was built."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return (size - before) / trees, (peak - before) / trees


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=15_600)
    args = parser.parse_args()
    if args.trees < 1:
        parser.error("--trees must be at least 1")
    corpus = write_corpus(Path(tempfile.mkdtemp(prefix="state-")), args.trees)
    trees = list(im.read_jsonl(str(corpus)))

    def lengths() -> RecordLengths:
        collected = RecordLengths()
        for tree in trees:
            collected.add(tree)
        return collected

    def ids() -> TreeIds:
        seen = TreeIds()
        for number, tree in enumerate(trees):
            seen.check(tree.id, str(corpus), number, im.ValidationOptions())
        return seen

    def planned() -> SplitPlanner:
        planner = SplitPlanner([0.9, 0.05, 0.05], directory=str(corpus.parent))
        for tree in trees:
            planner.add(tree.id, packed_keys(tree, GROUPS))
        planner.parts()
        return planner

    rows = {
        "split keys as text (group_keys)": lambda: [(t.id, group_keys(t, GROUPS)) for t in trees],
        "split keys packed (packed_keys)": lambda: [(t.id, packed_keys(t, GROUPS)) for t in trees],
        "split planner, splits assigned (SplitPlanner)": planned,
        "record lengths": lengths,
        "tree ids (duplicate check)": ids,
    }
    print(f"{args.trees} trees")
    print("| state | bytes per tree, held | at the peak |")
    print("| --- | --- | --- |")
    for name, build in rows.items():
        kept, peak = held(build, args.trees)
        print(f"| {name} | {kept:.0f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
