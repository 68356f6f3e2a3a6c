"""``intermt pairs``: preference pairs sampled and written for training."""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

from .._errors import OptionError, check_choice
from ..formats._options import IMAGES
from ..formats._registry import get_format
from ..io._json_records import write_json_records
from ..sampling._criteria import AGGREGATES, STRATEGIES, PairOptions
from ..validation._rules import ValidationOptions
from ._accounting import (
    add_input,
    images_root_of,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
)
from .convert import add_limits

__all__ = [
    "PAIR_TARGETS",
    "add_pair_options",
    "add_parser",
    "pair_options_of",
    "pairs",
    "parse_criterion",
    "run",
]

PAIR_TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "trl": ("trl", {"mode": "preference"}),
    "kto": ("trl", {"mode": "kto"}),
    "sharegpt": ("sharegpt", {"mode": "ranking"}),
    "llava-dpo": ("llava", {"mode": "dpo"}),
    "intermt-bench": ("intermt-bench", {"layout": "pair"}),
}


"""``intermt pairs --to`` names, and the exporter each uses; ``pairs`` writes the pairs
themselves (JSON Lines with provenance)."""


def parse_criterion(text: str) -> Any:
    """``overall``, ``pareto``, a dimension, ``a=2,b=1`` (weighted) or ``lex:a,b``.

    >>> parse_criterion("text_quality=2,context_coherence=1")
    {'text_quality': 2.0, 'context_coherence': 1.0}
    >>> parse_criterion("lex:helpfulness,context_awareness")
    ['helpfulness', 'context_awareness']
    """
    if text.startswith("lex:"):
        return [d for d in text[4:].split(",") if d]
    if "=" in text:
        try:
            return {k: float(v) for k, v in (item.split("=", 1) for item in text.split(","))}
        except ValueError:
            raise OptionError(f"bad weighted criterion {text!r}; write dim=weight,...") from None
    return text


def pairs(
    input: str,
    output: str,
    *,
    to: str,
    options: PairOptions | None = None,
    images_root: str | None = None,
    images: str = "reference",
    limits: dict[str, int] | None = None,
    source: str | None = None,
    rejects: str | None = None,
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Sample preference pairs from ``input`` (``options`` as for
    :func:`intermt_schema.iter_pairs`) and write them to ``output`` as ``to`` (one of
    :data:`PAIR_TARGETS`, or ``pairs`` for the pairs with their provenance), one tree
    at a time; returns the exit code. ``images`` (``reference``, ``copy`` or ``link``)
    places image files beside a training output, as ``convert`` does; ``limits``
    (``max_images``, ``max_chars``) leave out longer records, counted."""
    from ..sampling._criteria import check_pair_options
    from ..sampling.pairs import PairReport, apply_pairs, iter_pairs

    check_choice("pair target", to, ["pairs", *PAIR_TARGETS])
    check_choice("images", images, IMAGES)
    check_pair_options(options or {})
    fmt = get_format(PAIR_TARGETS[to][0]) if to in PAIR_TARGETS else None
    if images != "reference" and (fmt is None or "images" not in fmt.export_options):
        raise OptionError(f"--images {images}: --to {to} writes no image files")
    for name, value in (limits or {}).items():
        if value is not None and (fmt is None or name not in fmt.export_options):
            flag = "--" + name.replace("_", "-")
            raise OptionError(f"{flag} is not an option of --to {to}; training formats take it")
    refuse_overwriting([input], output, rejects)
    from_name = source_format(input, source)
    root = images_root_of(input, images_root)
    tally = tally_for(quiet)
    report = PairReport()
    checks = ValidationOptions(images_root=root)
    with rejects_file(rejects) as sink:  # streaming: one tree at a time
        trees = read_trees(
            input, from_name, checks, tally, out, "text", sink,
            per_file_images=images_root is None,
        )  # fmt: skip
        per_tree = iter_pairs(trees, report, **(options or {}))
        if to == "pairs":
            found = (p for _, some in per_tree for p in some)
            summary = f"pairs: {write_json_records(found, output, array=False)} records written"
        else:
            assert fmt is not None
            chosen: dict[str, Any] = dict(PAIR_TARGETS[to][1])
            if "source_root" in fmt.export_options:
                chosen["source_root"] = root
            if "images" in fmt.export_options:
                chosen["images"] = images
            chosen.update((k, v) for k, v in (limits or {}).items() if v is not None)
            paired = (t for tree, some in per_tree for t in apply_pairs([tree], some))
            summary = fmt.export(paired, output, **chosen).render()
    out.write(tally.render() + "\n" + report.render() + "\n" + summary + "\n")
    return 1 if tally.failed else 0


def pair_options_of(args: argparse.Namespace) -> PairOptions:
    """The pair sampling options the flags of :func:`add_pair_options` gave."""
    return PairOptions(
        scope=args.scope, source=args.pair_source, strategy=args.strategy,
        criterion=parse_criterion(args.criterion),
        dimensions=args.dimensions.split(",") if args.dimensions else (),
        margin=args.margin, ties=args.ties, aggregate=args.aggregate,
        cap_per_branch=args.cap_per_branch, cap_per_tree=args.cap_per_tree, seed=args.seed,
    )  # fmt: skip


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return pairs(
        args.input, args.output, to=args.target, options=pair_options_of(args),
        images_root=args.images_root, images=args.images,
        limits={"max_images": args.max_images, "max_chars": args.max_chars},
        source=args.source, rejects=args.rejects, quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pairs", help="sample preference pairs and export them")
    add_input(p)
    add_pair_options(p)
    p.add_argument(
        "--images",
        choices=IMAGES,
        default="reference",
        help="name image paths as they are (default), or copy/link the files beside the output",
    )
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    add_limits(p)
    p.add_argument("--to", dest="target", required=True, choices=["pairs", *PAIR_TARGETS])
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=run)


def add_pair_options(p: argparse.ArgumentParser) -> None:
    """The pair sampling flags (``pairs``, ``publish``); read with :func:`pair_options_of`."""
    p.add_argument("--scope", choices=["local", "global", "both"], default="both")
    p.add_argument(
        "--source",
        dest="pair_source",
        choices=["judgments", "ratings", "both"],
        default="both",
        help="pairs from human judgments, from ratings, or both",
    )
    p.add_argument("--strategy", choices=STRATEGIES, default="best_worst")
    p.add_argument(
        "--criterion",
        default="overall",
        help="overall | DIM | DIM=W,DIM=W (weighted) | lex:DIM,DIM | pareto",
    )
    p.add_argument("--dimensions", help="pareto: the dimensions compared, comma-separated")
    p.add_argument("--margin", type=float, default=0.0, help="least score difference to pair")
    p.add_argument("--ties", choices=["drop", "keep"], default="drop")
    p.add_argument(
        "--aggregate",
        choices=AGGREGATES,
        default="mean",
        help="how several annotators' scores combine",
    )
    p.add_argument("--cap-per-branch", type=int, help="at most N pairs per set of siblings")
    p.add_argument(
        "--cap-per-tree", type=int, help="at most N pairs per tree (the first N produced)"
    )
    p.add_argument("--seed", type=int, default=0)
