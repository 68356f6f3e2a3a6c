"""Validate a contributed dataset: every problem with its place, the rejects kept.

    python examples/validate_contribution.py [OUT] [DATA]

DATA is a file or folder of canonical trees (default: a copy of the bundled examples
in OUT, with one broken contribution added). Rejected records go to
OUT/rejects.jsonl. Exits 1 when a record has an error.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import intermt_schema as im

HERE = Path(__file__).resolve().parent


def main(data: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    options = im.ValidationOptions(check_images=True)
    read = accepted = 0
    with (out / "rejects.jsonl").open("wb") as rejects:
        for result in im.validate_path(str(data), options):
            read += result.line is not None
            accepted += result.accepted
            for issue in result.report:
                print(issue.render())
            if not result.accepted and result.raw is not None:
                rejects.write(result.raw.rstrip(b"\n") + b"\n")
    print(f"{read} records read: {accepted} accepted, {read - accepted} rejected")
    return 0 if read == accepted else 1


def sample_contribution(out: Path) -> Path:
    """The bundled examples plus one file with a broken tree, as a contributor might send."""
    folder = out / "contribution"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(HERE / "data", folder)
    tree = next(im.read_jsonl(str(folder / "trees.jsonl")))
    broken = im.DialogueTree(
        id="contrib-1",
        nodes=[*tree.nodes[:2], im.Message(id="orphan", parent="gone", role="user", content=[])],
        ratings=[
            im.Rating(target=tree.nodes[1].id, scope="local", dimension="text_quality", score=7)
        ],
    )
    im.write_jsonl([broken], str(folder / "contrib.jsonl"))
    return folder


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/validate")
    data = Path(sys.argv[2]) if len(sys.argv) > 2 else sample_contribution(out)
    raise SystemExit(main(data, out))
