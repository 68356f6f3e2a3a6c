"""Peak memory of the whole-corpus exports at 1x and 10x the corpus.

    python benchmarks/memory.py [--trees 1560]

Writes the synthetic corpus (``corpus.py``) once, then the same corpus ten times over,
and runs ``intermt convert`` to ``hf`` and to ``parquet`` on each under
``/usr/bin/time -v``. A streaming export keeps its peak near 1x from 1x to 10x. Peak
RSS counts the pages of files the process maps (``datasets`` maps the rows it saves),
so it is an upper bound on what the process holds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bombs import measure
from corpus import write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=1560, help="trees in the 1x corpus")
    args = parser.parse_args()
    if args.trees < 1:
        parser.error("--trees must be at least 1")
    folder = Path(tempfile.mkdtemp(prefix="memory-"))
    corpora = {
        factor: write_corpus(folder / f"x{factor}", args.trees, repeat=factor) for factor in (1, 10)
    }
    print("| export | trees 1x | peak MB 1x | peak MB 10x | ratio | s 1x | s 10x |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for target, suffix in (("hf", ""), ("parquet", ".parquet")):
        (m1, s1, _), (m10, s10, _) = (
            measure(["convert", str(corpora[f]), "--to", target, "-q"], folder / f"out{f}{suffix}")
            for f in (1, 10)
        )
        print(
            f"| {target} | {args.trees} | {m1:.0f} | {m10:.0f} | {m10 / m1:.2f} "
            f"| {s1:.1f} | {s10:.1f} |"
        )
    subprocess.run(["rm", "-rf", str(folder)])


if __name__ == "__main__":
    main()
