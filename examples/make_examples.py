"""Generate the bundled example dataset: branching trees, all nine dimensions, PNG images.

    python examples/make_examples.py            # writes examples/data/

The output is deterministic: running it twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from intermt_schema import write_jsonl
from intermt_schema.schema import (
    INTERMT,
    DialogueTree,
    Generator,
    ImagePart,
    ImageRef,
    Judgment,
    Message,
    Outcome,
    Part,
    Rating,
    Role,
    TextPart,
    TreeMeta,
)

HERE = Path(__file__).resolve().parent
TOPICS = [
    ("kitchen", "What appliances can you see in this kitchen?", (200, 180, 150)),
    ("garden", "Which flowers grow in this garden?", (90, 160, 80)),
    ("street", "How busy is this street?", (120, 120, 140)),
    ("beach", "Is it a good day for swimming here?", (80, 160, 220)),
]
FOLLOW_UPS = [
    "Can you show me a close-up of the left side?",
    "What would it look like at night?",
    "Draw the same scene in a watercolour style.",
    "Which detail stands out the most?",
]


def draw_png(label: str, colour: tuple[int, int, int], seed: int) -> bytes:
    """A small deterministic picture: a coloured background, shapes, and a label."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 72), colour)
    pen = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(0, 80), rng.randrange(0, 56)
        fill = tuple(rng.randrange(0, 256) for _ in range(3))
        pen.ellipse((x, y, x + 16, y + 16), fill=fill)
    pen.text((4, 58), label[:14], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class Builder:
    """Grows one tree, saving each drawn image under ``images/``."""

    def __init__(self, root: Path, index: int, colour: tuple[int, int, int], rng: random.Random):
        self.root, self.colour, self.rng = root, colour, rng
        self.topic = TOPICS[index % len(TOPICS)][0]
        self.prefix = f"ex{index:02d}"  # node ids are unique across the dataset, like uuids
        self.nodes: list[Message] = []

    def image(self, label: str) -> ImagePart:
        data = draw_png(label, self.colour, self.rng.randrange(1 << 30))
        digest = hashlib.sha256(data).hexdigest()
        path = f"images/{digest[:16]}.png"
        (self.root / path).write_bytes(data)
        ref = ImageRef(path=path, sha256=digest, mime="image/png", width=96, height=72)
        return ImagePart(image=ref)

    def add(self, role: Role, parent: str | None, text: str, images: int = 0) -> str:
        """A message. An answer's images stand where its ``<Image, ...>`` placeholders
        were, and the placeholder strings are kept, as the InterMT import keeps them."""
        node_id = f"{self.prefix}-{len(self.nodes)}"
        content: list[Part] = [TextPart(text)]
        for k in range(images):
            content.append(self.image(f"{self.topic} {len(self.nodes)}.{k}"))
        meta = {}
        if role == "user" and images:
            content.reverse()  # users tend to show the picture first
        elif images:
            meta = {
                "intermt_placeholders": [f"<Image, {self.topic} view {k}>" for k in range(images)]
            }
        generator = Generator(model="example-mllm", tools=["draw"] if images else [])
        self.nodes.append(
            Message(
                id=node_id,
                parent=parent,
                role=role,
                content=content,
                generator=generator if role == "assistant" else None,
                meta=meta,
            )
        )
        return node_id


def build_tree(root: Path, index: int, rng: random.Random) -> DialogueTree:
    topic, question, colour = TOPICS[index % len(TOPICS)]
    b = Builder(root, index, colour, rng)
    q0 = b.add("user", None, question, images=1)
    answers = [
        b.add("assistant", q0, f"Answer {k} about the {topic}.", images=k % 2) for k in range(2)
    ]
    leaves = []
    for a in answers:
        for _ in range(2 if a == answers[0] else 1):
            follow = b.add("user", a, rng.choice(FOLLOW_UPS))
            for m in range(2):
                leaves.append(
                    b.add(
                        "assistant",
                        follow,
                        f"Here is what I see ({m}): ",
                        images=1,
                    )
                )
    ratings = []
    for node in b.nodes:
        if node.role != "assistant":
            continue
        for dim in INTERMT.of_scope("local"):
            ratings.append(
                Rating(
                    target=node.id,
                    scope="local",
                    dimension=dim.key,
                    score=rng.randrange(0, 4),
                    annotator="ann-1",
                    rationale=f"{dim.title} looks {rng.choice(['fine', 'weak'])}.",
                )
            )
    for leaf in leaves:
        for dim in INTERMT.of_scope("global"):
            low = -1 if dim.special else 0
            ratings.append(
                Rating(
                    target=leaf,
                    scope="global",
                    dimension=dim.key,
                    score=rng.randrange(low, 4),
                    annotator="ann-1",
                )
            )
        ratings.append(
            Rating(
                target=leaf,
                scope="global",
                dimension="helpfulness",
                score=rng.randrange(0, 4),
                annotator="ann-2",
            )
        )
    outcomes: list[Outcome] = ["a", "b", "tie"]
    judgments = [
        Judgment(
            a=answers[0],
            b=answers[1],
            scope="local",
            outcomes={d.key: rng.choice(outcomes) for d in INTERMT.of_scope("local")},
            overall=rng.choice(outcomes),
            annotator="ann-1",
            rationale="The first answer names more objects.",
        ),
        Judgment(
            a=leaves[0],
            b=leaves[1],
            scope="global",
            outcomes={d.key: rng.choice(outcomes) for d in INTERMT.of_scope("global")},
            overall=rng.choice(outcomes),
            annotator="ann-2",
        ),
    ]
    return DialogueTree(
        id=f"example-{index:02d}",
        meta=TreeMeta(source="intermt-schema examples", category=topic, task="visual-qa"),
        nodes=b.nodes,
        ratings=ratings,
        judgments=judgments,
    )


def main(out: Path = HERE / "data") -> None:
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(20250530)
    trees = [build_tree(out, i, rng) for i in range(6)]
    count = write_jsonl(trees, str(out / "trees.jsonl"))
    print(f"wrote {count} trees to {out / 'trees.jsonl'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data")
