"""Write a dataset of trees with and without images, from the examples.

    python mixed.py EXAMPLES OUT

Every second tree loses its images (a text part stands in where a message held only
images); the image files are copied, so OUT is a dataset folder of its own.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from msgspec import structs

import intermt_schema as im


def text_only(tree: im.DialogueTree) -> im.DialogueTree:
    nodes = []
    for node in tree.nodes:
        content = [p for p in node.content if type(p) is not im.ImagePart]
        nodes.append(structs.replace(node, content=content or [im.TextPart("(no image)")]))
    return structs.replace(tree, id=f"{tree.id}-text", nodes=nodes)


def main() -> None:
    examples, out = Path(sys.argv[1]), Path(sys.argv[2])
    trees = list(im.read_jsonl(str(examples / "trees.jsonl")))
    mixed = [text_only(t) if i % 2 else t for i, t in enumerate(trees)]
    shutil.copytree(examples / "images", out / "images", dirs_exist_ok=True)
    im.write_jsonl(mixed, str(out / "trees.jsonl"))


if __name__ == "__main__":
    main()
