"""``intermt split``: leak-free train/validation/test parts."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import IO

from .._errors import OptionError
from ..io._fs import is_local, staged_folder
from ..sampling.splits import check_fractions, check_group_by
from ..validation._rules import ValidationOptions
from ._accounting import (
    add_input,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
)

__all__ = ["add_parser", "parse_fractions", "run", "split"]


def split(
    input: str,
    output: str,
    *,
    fractions: Sequence[float] = (0.9, 0.05, 0.05),
    group_by: Sequence[str] = ("tree",),
    seed: int = 0,
    source: str | None = None,
    rejects: str | None = None,
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Split ``input`` into ``train``/``validation``/``test`` (or ``part-N``) JSON Lines
    files under ``output`` that share no group (see :func:`intermt_schema.split_trees`);
    returns the exit code."""
    from ..io._jsonl import write_jsonl
    from ..sampling.splits import split_trees

    refuse_overwriting([input], output, rejects)
    check_fractions(fractions)
    check_group_by(group_by)
    from_name = source_format(input, source)
    tally = tally_for(quiet)
    with rejects_file(rejects) as sink:
        trees = list(read_trees(input, from_name, ValidationOptions(), tally, out, "text", sink))
    parts = split_trees(trees, fractions, group_by=group_by, seed=seed)
    names = (
        ["train", "validation", "test"]
        if len(parts) == 3
        else [f"part-{i}" for i in range(len(parts))]
    )
    out.write(tally.render() + "\n")
    with staged_folder(output) as folder:  # all parts, or none: never two generations
        for name, part in zip(names, parts, strict=True):
            target = (
                os.path.join(folder, f"{name}.jsonl")
                if is_local(folder)
                else f"{folder}/{name}.jsonl"
            )
            write_jsonl(part, target)
            share = len(part) / len(trees) if trees else 0.0
            out.write(f"{name:<11} {len(part):>7} trees ({share:.1%})\n")
    return 1 if tally.failed else 0


def parse_fractions(text: str) -> list[float]:
    """``--fractions 0.9,0.05,0.05`` as numbers (checked by the command)."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise OptionError(f"bad --fractions {text!r}; write e.g. 0.9,0.05,0.05") from None


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return split(
        args.input, args.output, fractions=parse_fractions(args.fractions),
        group_by=[g for g in args.group_by.split(",") if g], seed=args.seed,
        source=args.source, rejects=args.rejects, quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("split", help="split trees into parts that share no tree, prompt or image")
    add_input(p)
    p.add_argument("--fractions", default="0.9,0.05,0.05")
    p.add_argument("--group-by", default="tree", help="tree,prompt,image: what may not straddle")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="folder for train/validation/test.jsonl")
    p.set_defaults(run=run)
