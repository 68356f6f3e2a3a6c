"""Peak memory of the whole-corpus writers at 1x and 10x the corpus.

    python benchmarks/memory.py [--trees 1560] [--image-kb 0] [--targets hf,parquet,publish]
                                [--scales 1,10]

Writes the synthetic corpus (``corpus.py``) once, then the same corpus ten times over,
and runs ``intermt convert --to hf``, ``--to parquet`` and ``intermt publish`` on each
under ``/usr/bin/time -v``. Images are embedded by every one of them; ``--image-kb``
draws them as incompressible noise of that size (about nine per tree), as photographs
are. A streaming writer keeps its peak near 1x from 1x to 10x. ``--scales 1`` runs the
1x corpus alone (realistic images at the InterMT scale write tens of GB per command).
Peak RSS counts the pages of files the process maps, so it is an upper bound on what
the process holds.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bombs import measure
from corpus import write_corpus

COMMANDS = {
    "hf": ["convert", "--to", "hf"],
    "parquet": ["convert", "--to", "parquet"],
    "publish": ["publish", "--no-plots"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=1560, help="trees in the 1x corpus")
    parser.add_argument("--image-kb", type=int, default=0, help="noise images of this size")
    parser.add_argument("--targets", default="hf,parquet,publish")
    parser.add_argument("--scales", default="1,10", help="1,10 or 1")
    args = parser.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    if args.scales not in ("1,10", "1"):
        parser.error("--scales: 1,10 or 1")
    factors = [int(f) for f in args.scales.split(",")]
    if args.trees < 1 or args.image_kb < 0:
        parser.error("--trees must be at least 1 and --image-kb at least 0")
    if not targets or set(targets) - set(COMMANDS):
        parser.error(f"--targets: a comma-separated subset of {', '.join(COMMANDS)}")
    folder = Path(tempfile.mkdtemp(prefix="memory-"))
    corpora = {
        factor: write_corpus(
            folder / f"x{factor}", args.trees, repeat=factor, image_kb=args.image_kb
        )
        for factor in factors
    }
    print(f"images: {args.image_kb or 'flat 32x32'} KB")
    print("| writer | trees 1x | input MB 1x | peak MB 1x | peak MB 10x | ratio | s 1x | s 10x |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for target in targets:
        runs = []
        for factor in factors:
            out = folder / f"out-{target}-{factor}"
            command = [COMMANDS[target][0], str(corpora[factor]), *COMMANDS[target][1:], "-q"]
            if target == "parquet":
                out = out.with_suffix(".parquet")
            if command[0] != "convert":  # measure() names the output of convert
                command += ["-o", str(out)]
            runs.append(measure(command, out))
            code = runs[-1][2]
            assert code == 0, f"{target} at {factor}x exited {code}"
            shutil.rmtree(out, ignore_errors=True)
            out.unlink(missing_ok=True)
        (m1, s1, _), *tenfold = runs
        size = corpora[1].stat().st_size / (1 << 20)
        m10, s10 = (f"{tenfold[0][0]:.0f}", f"{tenfold[0][1]:.1f}") if tenfold else ("-", "-")
        ratio = f"{tenfold[0][0] / m1:.2f}" if tenfold else "-"
        row = [target, args.trees, f"{size:.0f}", f"{m1:.0f}", m10, ratio, f"{s1:.1f}", s10]
        print("| " + " | ".join(map(str, row)) + " |")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
