"""Peak memory and time of the CLI on hostile inputs, at 1x and 10x their size.

    python benchmarks/bombs.py [--scale 1.0] [--keep DIR]

Each case is written at two sizes, and each command runs under ``/usr/bin/time -v``;
the table gives the maximum resident set size and the wall time of both, and their
ratio. A bounded command stays near 1x in memory from 1x to 10x. Inputs that the gate
refuses are refused at both sizes.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import msgspec

import intermt_schema as im

Case = tuple[str, Callable[[Path, int], Path], list[str]]


def gzip_array_bomb(folder: Path, mb: int) -> Path:
    """An empty JSON array padded with ``mb`` MB of spaces, gzipped."""
    path = folder / f"array-{mb}.json.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b"[")
        for _ in range(mb):
            f.write(b" " * (1 << 20))
        f.write(b"]")
    return path


def blank_lines(folder: Path, mb: int) -> Path:
    """``mb`` MB of empty lines, then one tree."""
    path = folder / f"blank-{mb}.jsonl"
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(b"\n" * (1 << 20))
        f.write(_line(_star(3)))
    return path


def one_huge_record(folder: Path, mb: int) -> Path:
    """One tree whose single message holds ``mb`` MB of text."""
    path = folder / f"record-{mb}.jsonl"
    path.write_bytes(_line(_huge(mb)))
    return path


def gzipped_record(folder: Path, mb: int) -> Path:
    """The same, gzipped: a few KB that inflate to ``mb`` MB."""
    path = folder / f"record-{mb}.jsonl.gz"
    with gzip.open(path, "wb") as f:
        f.write(_line(_huge(mb)))
    return path


def _huge(mb: int) -> im.DialogueTree:
    text = "x" * (mb << 20)
    return im.DialogueTree(
        id="huge", nodes=[im.Message(id="q", role="user", content=[im.TextPart(text)])]
    )


def huge_parquet_row(folder: Path, mb: int) -> Path:
    """A Parquet file of one row holding ``mb`` MB of text."""
    path = folder / f"row-{mb}.parquet"
    im.write_parquet([_huge(mb)], str(path))
    return path


def star_tree(folder: Path, thousands: int) -> Path:
    """One tree: a question with ``thousands`` x 1000 answers."""
    path = folder / f"star-{thousands}k.jsonl"
    path.write_bytes(_line(_star(thousands * 1000)))
    return path


def chain_tree(folder: Path, thousands: int) -> Path:
    """One tree: a chain of ``thousands`` x 1000 alternating turns."""
    path = folder / f"chain-{thousands}k.jsonl"
    nodes = [
        im.Message(
            id=f"n{i}",
            parent=f"n{i - 1}" if i else None,
            role="user" if i % 2 == 0 else "assistant",
            content=[im.TextPart(f"turn {i}")],
        )
        for i in range(thousands * 1000)
    ]
    path.write_bytes(_line(im.DialogueTree(id="chain", nodes=nodes)))
    return path


def comb_tree(folder: Path, thousands: int) -> Path:
    """One tree: a chain of ``thousands`` x 1000 turns with an answer off each question,
    whose paths hold a number of messages that grows with the square of its size."""
    path = folder / f"comb-{thousands}k.jsonl"
    nodes, parent = [], None
    for i in range(thousands * 1000):
        role: im.Role = "user" if i % 2 == 0 else "assistant"
        nodes.append(im.Message(id=f"s{i}", parent=parent, role=role, content=[]))
        parent = f"s{i}"
        if role == "user":
            nodes.append(im.Message(id=f"l{i}", parent=parent, role="assistant", content=[]))
    path.write_bytes(_line(im.DialogueTree(id="comb", nodes=nodes)))
    return path


def _star(answers: int) -> im.DialogueTree:
    nodes = [im.Message(id="q", role="user", content=[im.TextPart("Which?")])]
    nodes += [
        im.Message(id=f"a{i}", parent="q", role="assistant", content=[im.TextPart(f"{i}")])
        for i in range(answers)
    ]
    return im.DialogueTree(id="star", nodes=nodes)


def _line(tree: im.DialogueTree) -> bytes:
    return msgspec.json.encode(tree) + b"\n"


CASES: list[Case] = [
    (
        "gzip JSON array bomb, sharegpt import (MB inflated)",
        gzip_array_bomb,
        ["convert", "{}", "--from", "sharegpt", "--to", "jsonl"],
    ),
    ("blank lines (MB)", blank_lines, ["validate", "{}"]),
    ("blank lines, 2 workers (MB)", blank_lines, ["validate", "{}", "--workers", "2"]),
    ("one huge record (MB)", one_huge_record, ["validate", "{}"]),
    ("one huge record, 2 workers (MB)", one_huge_record, ["validate", "{}", "--workers", "2"]),
    ("one huge record, gzipped (MB)", gzipped_record, ["validate", "{}"]),
    ("one huge Parquet row (MB)", huge_parquet_row, ["validate", "{}"]),
    ("star tree, validate (k answers)", star_tree, ["validate", "{}"]),
    ("star tree, to sharegpt (k answers)", star_tree, ["convert", "{}", "--to", "sharegpt"]),
    ("star tree, stats (k answers)", star_tree, ["stats", "{}"]),
    ("chain tree, to sharegpt (k turns)", chain_tree, ["convert", "{}", "--to", "sharegpt"]),
    ("comb tree, to sharegpt (k turns)", comb_tree, ["convert", "{}", "--to", "sharegpt"]),
]
SIZES: dict[Callable[[Path, int], Path], int] = {
    gzip_array_bomb: 100,
    blank_lines: 64,
    one_huge_record: 20,
    gzipped_record: 20,
    huge_parquet_row: 20,
    star_tree: 20,
    chain_tree: 10,
    comb_tree: 4,
}


def measure(command: list[str], out: Path) -> tuple[float, float, int]:
    """Peak RSS (MB), wall seconds and exit code of one CLI run under /usr/bin/time -v."""
    args = ["/usr/bin/time", "-v", sys.executable, "-m", "intermt_schema.cli", *command]
    if command[0] == "convert":
        args += ["-o", str(out)]
    done = subprocess.run(args, capture_output=True, text=True)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert peak is not None, done.stderr
    rss = int(peak[1])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    assert wall is not None, done.stderr
    hours, minutes, seconds = wall.groups()
    elapsed = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return rss / 1024, elapsed, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 1x sizes")
    parser.add_argument("--keep", help="write the inputs here and keep them")
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be positive")
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bombs-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        "| case | 1x | input MB 1x / 10x | peak MB 1x | peak MB 10x | ratio | s 1x | s 10x |",
        end="",
    )
    print(" exit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    made: dict[tuple[Callable[[Path, int], Path], int], Path] = {}
    for title, make, command in CASES:
        size = max(1, int(SIZES[make] * args.scale))
        results, sizes = [], []
        for factor in (1, 10):
            key = (make, size * factor)
            if key not in made:
                made[key] = make(folder, size * factor)
            path = made[key]
            sizes.append(path.stat().st_size / (1 << 20))
            suffix = ".json" if "sharegpt" in command else ".jsonl"
            out = folder / f"out-{path.stem}-{command[0]}{suffix}"
            results.append(measure([c.replace("{}", str(path)) for c in command], out))
        (m1, s1, e1), (m10, s10, e10) = results
        print(
            f"| {title} | {size} | {sizes[0]:.1f} / {sizes[1]:.1f} | {m1:.0f} | {m10:.0f} "
            f"| {m10 / m1:.2f} "
            f"| {s1:.2f} | {s10:.2f} | {e1}, {e10} |"
        )
    if not args.keep:
        subprocess.run(["rm", "-rf", str(folder)])
    version = sys.version.split()[0]
    print(f"\n(intermt-schema {im.__version__}, Python {version}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
