"""A synthetic corpus at InterMT scale: 15.6k trees, ~52.6k paths, ~32.4k judgments.

    python benchmarks/corpus.py OUT_DIR [--trees N]

Trees branch at the first answer and at follow-ups, 2 to 6 turns deep; conversations
hold about five images, referenced by path to a small set of PNGs drawn with Pillow.
"""

from __future__ import annotations

import argparse
import io
import random
from collections.abc import Iterator
from pathlib import Path

from intermt_schema import write_jsonl
from intermt_schema.schema import (
    INTERMT,
    DialogueTree,
    ImagePart,
    ImageRef,
    Judgment,
    Message,
    Part,
    Rating,
    Role,
    TextPart,
    TreeMeta,
)

WORDS = [
    "the",
    "image",
    "shows",
    "a",
    "kitchen",
    "with",
    "a",
    "window",
    "and",
    "cabinets",
    "while",
    "the",
    "assistant",
    "describes",
    "colours",
    "shapes",
    "objects",
    "light",
    "texture",
    "and",
    "layout",
    "in",
    "detail",
]
LOCAL = [d.key for d in INTERMT.of_scope("local")]
GLOBAL = [d.key for d in INTERMT.of_scope("global")]
IMAGE_COUNT = 64


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def image(rng: random.Random) -> ImagePart:
    return ImagePart(
        image=ImageRef(
            path=f"images/{rng.randrange(IMAGE_COUNT):04d}.png",
            mime="image/png",
            width=32,
            height=32,
        )
    )


def make_tree(index: int, rng: random.Random) -> DialogueTree:
    """One tree; 3 to 4 leaves on average, about 5 images per path."""
    nodes: list[Message] = []
    ratings: list[Rating] = []

    def add(role: Role, parent: str | None, n_images: int) -> str:
        node_id = f"t{index}-n{len(nodes)}"
        content: list[Part] = [TextPart(sentence(rng, rng.randrange(20, 90)))]
        content += [image(rng) for _ in range(n_images)]
        nodes.append(Message(id=node_id, parent=parent, role=role, content=content))
        if role == "assistant":
            for key in LOCAL:
                ratings.append(
                    Rating(target=node_id, scope="local", dimension=key, score=rng.randrange(0, 4))
                )
        return node_id

    depth = rng.choice([2, 3, 4, 5, 5, 6])
    root = add("user", None, 1)
    frontier = [root]
    leaves: list[str] = []
    for turn in range(depth):
        next_frontier: list[str] = []
        for question in frontier:
            answers = (2 if rng.random() < 0.2 else 1) if turn else 2
            for _ in range(answers):
                answer = add("assistant", question, 1 if rng.random() < 0.6 else 0)
                if turn + 1 < depth and len(next_frontier) < 3:
                    next_frontier.append(add("user", answer, 1 if rng.random() < 0.2 else 0))
                else:
                    leaves.append(answer)
        frontier = next_frontier
    for leaf in leaves:
        for key in GLOBAL:
            ratings.append(
                Rating(target=leaf, scope="global", dimension=key, score=rng.randrange(0, 4))
            )
    judgments = []
    siblings: dict[str | None, list[str]] = {}
    for n in nodes:
        if n.role == "assistant":
            siblings.setdefault(n.parent, []).append(n.id)
    pairs = [g[:2] for g in siblings.values() if len(g) > 1]
    for a, b in pairs[: 1 + (rng.random() < 0.08)]:
        judgments.append(
            Judgment(
                a=a, b=b, scope="local", outcomes={k: rng.choice(["a", "b", "tie"]) for k in LOCAL}
            )
        )
    if len(leaves) > 1 and rng.random() < 0.95:
        judgments.append(
            Judgment(
                a=leaves[0],
                b=leaves[-1],
                scope="global",
                outcomes={k: rng.choice(["a", "b", "tie"]) for k in GLOBAL},
            )
        )
    return DialogueTree(
        id=f"tree-{index:06d}",
        meta=TreeMeta(source="synthetic"),
        nodes=nodes,
        ratings=ratings,
        judgments=judgments,
    )


def write_images(folder: Path, image_kb: int = 0) -> None:
    """``IMAGE_COUNT`` PNGs: flat 32x32 squares, or noise of about ``image_kb`` KB each
    (noise does not compress, like photographs)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    side = int((image_kb * 1024 / 3) ** 0.5)
    for i in range(IMAGE_COUNT):
        buffer = io.BytesIO()
        if image_kb:
            image = Image.frombytes(
                "RGB", (side, side), random.Random(i).randbytes(side * side * 3)
            )
        else:
            image = Image.new("RGB", (32, 32), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
        image.save(buffer, format="PNG")
        (folder / f"{i:04d}.png").write_bytes(buffer.getvalue())


def write_corpus(
    out: Path, trees: int = 15_600, seed: int = 0, repeat: int = 1, image_kb: int = 0
) -> Path:
    """Write ``trees.jsonl`` (the corpus ``repeat`` times over) and ``images/`` (flat
    squares, or noise of ``image_kb`` KB each)."""
    rng = random.Random(seed)
    write_images(out / "images", image_kb)
    corpus = [make_tree(i, rng) for i in range(trees)]

    def repeated() -> Iterator[DialogueTree]:
        for r in range(repeat):
            for tree in corpus:
                yield (
                    tree
                    if r == 0
                    else DialogueTree(
                        id=f"{tree.id}-r{r}",
                        meta=tree.meta,
                        nodes=tree.nodes,
                        ratings=tree.ratings,
                        judgments=tree.judgments,
                    )
                )

    target = out / "trees.jsonl"
    write_jsonl(repeated(), str(target))
    return target


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--trees", type=int, default=15_600)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--image-kb", type=int, default=0, help="noise images of this size")
    args = parser.parse_args()
    path = write_corpus(args.out, args.trees, repeat=args.repeat, image_kb=args.image_kb)
    print(f"wrote {path}")
