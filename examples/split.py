"""Split trees into train, validation and test so that no tree, prompt or image is in
two of them.

    python examples/split.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import intermt_schema as im
from intermt_schema.sampling.splits import split_trees

DATA = Path(__file__).resolve().parent / "data"


def images(tree: im.DialogueTree) -> set[str]:
    return {
        p.image.path or "" for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart)
    }


def main(out: Path) -> int:
    trees = list(im.read_jsonl(str(DATA / "trees.jsonl")))
    parts = split_trees(trees, [0.6, 0.2, 0.2], group_by=["tree", "prompt", "image"], seed=1)
    seen: dict[str, str] = {}
    leaks = 0
    for name, part in zip(("train", "validation", "test"), parts, strict=True):
        im.write_jsonl(part, str(out / f"{name}.jsonl"))
        print(f"{name:<11} {len(part)} trees")
        for tree in part:
            for image in images(tree):
                leaks += seen.setdefault(image, name) != name
    print(f"images in more than one part: {leaks}")
    return 1 if leaks or sum(map(len, parts)) != len(trees) else 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/split")))
