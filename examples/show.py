"""Write HTML pages to look at the trees: an index and one self-contained page each.

python examples/show.py [OUT]      # then open OUT/index.html in a browser
"""

from __future__ import annotations

import sys
from pathlib import Path

import intermt_schema as im
from intermt_schema.viewer import write_pages

DATA = Path(__file__).resolve().parent / "data"


def main(out: Path) -> int:
    trees = im.read_jsonl(str(DATA / "trees.jsonl"))
    written = write_pages(trees, str(out / "index.html"), images_root=str(DATA))
    print(f"wrote {written[0]} and {len(written) - 1} tree pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/show")))
