"""``intermt publish``: a folder that is a Hugging Face dataset repository, with its
card and Croissant metadata; ``--push`` uploads it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any

from .._errors import IntermtError, OptionError
from ..io._fs import is_local, staged_folder
from ..sampling._criteria import PairOptions
from ..validation._report import RecordResult
from ..validation._rules import ValidationOptions
from ._accounting import (
    account,
    add_input,
    images_root_of,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
    workers_for,
)
from .pairs import add_pair_options, pair_options_of
from .split import parse_fractions

__all__ = ["add_parser", "publish", "run"]


def publish(
    input: str,
    output: str,
    *,
    card: dict[str, object] | None = None,
    pair_options: PairOptions | None = None,
    fractions: Sequence[float] = (0.9, 0.05, 0.05),
    group_by: Sequence[str] = ("tree", "prompt", "image"),
    seed: int = 0,
    shard_mb: int = 500,
    images_root: str | None = None,
    plots: bool = True,
    push: str | None = None,
    private: bool = False,
    source: str | None = None,
    rejects: str | None = None,
    quiet: bool = True,
    workers: int = 1,
    out: IO[str] = sys.stdout,
) -> int:
    """Validate ``input`` and publish its accepted trees into the new local folder
    ``output`` (see :func:`intermt_schema.publish.publish_dataset`); ``card`` holds
    :class:`~intermt_schema.publish.CardInfo` fields. ``push`` then uploads the folder
    as that Hub dataset. Returns the exit code."""
    from ..publish import CardInfo, publish_dataset, publish_spooled, push_to_hub

    if not is_local(output):
        raise OptionError(f"{output}: publish writes a local folder; upload it with --push")
    if workers < 1:
        raise OptionError(f"--workers must be at least 1, not {workers}")
    if shard_mb < 1:
        raise OptionError(f"--shard-size must be at least 1 (MB), not {shard_mb}")
    if private and not push:
        raise OptionError("--private applies to --push; nothing is uploaded without it")
    fields = dict(card or {})
    if push and fields.setdefault("repo_id", push) != push:
        raise OptionError(f"--repo {fields['repo_id']} and --push {push} name two repositories")
    info = CardInfo(**fields)  # type: ignore[arg-type]
    refuse_overwriting([input], output, rejects)
    from_name = source_format(input, source)
    root = images_root_of(input, images_root)
    tally = tally_for(quiet)
    checks = ValidationOptions(images_root=root)
    per_file = images_root is None  # a folder's files each resolve images in their folder
    workers = workers_for(input, from_name, workers, per_file_images=per_file)
    chosen: dict[str, Any] = {
        "info": info, "pair_options": pair_options, "fractions": fractions,
        "group_by": group_by, "seed": seed, "shard_bytes": shard_mb << 20, "plots": plots,
        "workers": workers,
    }  # fmt: skip
    try:
        with rejects_file(rejects) as sink, staged_folder(output) as folder:
            if workers > 1:  # the first pass too: validate, embed and key in the workers
                from ..scale.workers import parallel_spool

                def count(result: RecordResult, accepted: bool) -> None:
                    account(result, tally, out, "text", sink, accepted=accepted)

                spooled = parallel_spool(input, checks, root, group_by, workers, count)
                report = publish_spooled(spooled, folder, **chosen)
            else:
                trees = read_trees(
                    input, from_name, checks, tally, out, "text", sink, per_file_images=per_file
                )
                report = publish_dataset(trees, folder, images_root=root, **chosen)
    except IntermtError:  # nothing to publish, or a worker died: the summary, then why
        out.write(tally.render() + "\n")
        raise
    out.write(tally.render() + "\n" + report.pairs.render() + "\n" + report.render() + "\n")
    if push:
        out.write(f"pushed: {push_to_hub(output, push, private=private)}\n")
    return 1 if tally.failed else 0


def run(args: argparse.Namespace, out: IO[str]) -> int:
    card: dict[str, object] = {
        "language": [c for c in args.language.split(",") if c], "license": args.license,
    }  # fmt: skip
    if args.pretty_name:
        card["pretty_name"] = args.pretty_name
    if args.description:
        card["description"] = args.description
    if args.repo:
        card["repo_id"] = args.repo
    if args.citation:
        with open(args.citation, encoding="utf-8") as f:
            card["citation"] = f.read()
    return publish(
        args.input, args.output, card=card, pair_options=pair_options_of(args),
        fractions=parse_fractions(args.fractions),
        group_by=[g for g in args.group_by.split(",") if g], seed=args.seed,
        shard_mb=args.shard_size, images_root=args.images_root, plots=not args.no_plots,
        push=args.push, private=args.private, source=args.source, rejects=args.rejects,
        quiet=args.quiet, workers=args.workers, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("publish", help="write a Hub-ready dataset: Parquet shards, card, Croissant")
    add_input(p)
    p.add_argument("-o", "--output", required=True, help="a new local folder")
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    p.add_argument("--fractions", default="0.9,0.05,0.05", help="train,validation,test")
    p.add_argument(
        "--group-by", default="tree,prompt,image", help="what may not straddle two splits"
    )
    p.add_argument("--shard-size", type=int, default=500, metavar="MB", help="per Parquet shard")
    p.add_argument("--pretty-name", help="the dataset's name on the card")
    p.add_argument("--description", help="a paragraph for the card and Croissant")
    p.add_argument("--license", default="other", help="a Hub license id, e.g. cc-by-4.0")
    p.add_argument("--language", default="en", help="comma-separated codes")
    p.add_argument("--repo", help="owner/name, for the card's links (--push sets it too)")
    p.add_argument("--citation", metavar="FILE", help="BibTeX to cite the dataset by")
    p.add_argument("--no-plots", action="store_true", help="leave the histograms out")
    p.add_argument("--push", metavar="REPO", help="upload to this Hub dataset (owner/name)")
    p.add_argument("--private", action="store_true", help="with --push: a private repository")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes that validate, embed and write (default 1; JSON Lines input)",
    )
    add_pair_options(p)
    p.set_defaults(run=run)
