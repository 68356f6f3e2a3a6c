"""What the commands do, apart from parsing arguments: read any input into trees
while counting every record, convert, and summarise.

Every record read ends up accepted or rejected: ``read = accepted + rejected``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from ._errors import UnknownNameError
from ._fs import atomic_output, is_local
from ._records import file_failure, validate_path
from ._report import Issue, RecordResult
from ._schema import DialogueTree, ImagePart
from ._validate import ValidationOptions
from .formats import Format, LossReport, available_formats, detect_format, get_format
from .formats._base import option_names
from .tree import TreeView

__all__ = ["Tally", "read_trees", "reject_line", "run_convert", "run_export_all", "run_stats"]

CANONICAL = ("jsonl", "parquet")


@contextlib.contextmanager
def rejects_file(args: argparse.Namespace) -> Iterator[IO[bytes] | None]:
    """The ``--rejects`` file, written atomically, or None when not asked for."""
    if getattr(args, "rejects", None):
        with atomic_output(args.rejects) as sink:
            yield sink
    else:
        yield None


def tally_for(args: argparse.Namespace) -> Tally:
    """A tally with a progress bar when stderr is a terminal and ``--quiet`` is off."""
    return Tally(progress=not getattr(args, "quiet", False) and sys.stderr.isatty())


class UsageError(Exception):
    """A mistake in how a command was called (exit code 2)."""


def reject_line(result: RecordResult) -> bytes:
    """A rejects-file line: where the record was, why, and the record verbatim."""
    entry: dict[str, object] = {"source": result.source, "line": result.line}
    entry["errors"] = [i for i in result.report.issues if i.severity == "error"]
    if result.raw is not None:
        raw = result.raw.removesuffix(b"\n")
        try:
            entry["record"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            entry["record_base64"] = base64.b64encode(raw).decode("ascii")
    return msgspec.json.encode(entry) + b"\n"


class Tally:
    """Counts records read, accepted and rejected, and issues by severity; with
    ``progress``, shows the count as a progress bar on stderr (see :func:`tally_for`)."""

    def __init__(self, progress: bool = False) -> None:
        self.read = self.accepted = self.rejected = 0
        self.by_severity = {"error": 0, "warning": 0, "info": 0}
        self._bar: Any = None
        if progress:
            from tqdm import tqdm

            size = shutil.get_terminal_size((80, 24))  # where a terminal reports 0 x 0
            self._bar = tqdm(
                desc="records",
                unit=" rec",
                file=sys.stderr,
                mininterval=0.25,
                leave=False,
                ncols=size.columns,
                nrows=size.lines,
            )

    def close(self) -> None:
        """Remove the progress bar (before the summary is printed)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def add(self, result: RecordResult) -> None:
        self.count(result.line, result.accepted, result.report)

    def count(self, line: int | None, accepted: bool, issues: Any) -> None:
        """Count one record (``line=None``: a problem with a whole file) and its issues."""
        if line is not None:
            self.read += 1
            if self._bar is not None:
                self._bar.update()
        if accepted:
            self.accepted += 1
        elif line is not None:
            self.rejected += 1
        self.count_issues(issues)

    def count_issues(self, issues: Any) -> None:
        for issue in issues:
            self.by_severity[issue.severity] += 1

    @property
    def failed(self) -> bool:
        return self.by_severity["error"] > 0

    def summary(self) -> dict[str, int]:
        self.close()  # the run is over: the progress bar gives way to the summary
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "errors": self.by_severity["error"],
            "warnings": self.by_severity["warning"],
            "infos": self.by_severity["info"],
        }

    def render(self) -> str:
        s = self.summary()
        return (
            f"{s['read']} records read: {s['accepted']} accepted, {s['rejected']} rejected "
            f"({s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos)"
        )


def _print_issue(issue: Issue, out: IO[str], fmt: str, verbose: bool = False) -> None:
    if fmt == "json":
        out.write(msgspec.json.encode(issue).decode() + "\n")
    elif issue.severity != "info" or verbose:
        out.write(issue.render() + "\n")


def _source_format(url: str, given: str | None) -> str:
    if is_local(url) and not os.path.exists(url.removeprefix("file://")):
        raise UsageError(f"no such file or folder: {url}")
    if given:
        get_format(given)
        return given
    if url.endswith((".jsonl", ".jsonl.gz", ".parquet")) or (is_local(url) and os.path.isdir(url)):
        found = detect_format(url) if not os.path.isdir(url) else "jsonl"
        return found if found else "jsonl"
    found = detect_format(url)
    if found is None:
        raise UsageError(f"cannot tell the format of {url}; name it with --from")
    return found


def images_root_of(url: str, given: str | None) -> str:
    """Where the input's relative image paths resolve: as given, or its folder."""
    if given:
        return given
    if is_local(url):
        path = os.path.abspath(url.removeprefix("file://"))
        return path if os.path.isdir(path) else os.path.dirname(path)
    return url.rsplit("/", 1)[0]


def account(
    result: RecordResult,
    tally: Tally,
    out: IO[str],
    report_format: str,
    sink: IO[bytes] | None,
    *,
    verbose: bool = False,
    accepted: bool | None = None,
) -> None:
    """Count one record, print its issues, and keep it in ``sink`` when rejected.
    ``accepted`` overrides ``result.accepted`` (when the tree was decoded elsewhere)."""
    accepted = result.accepted if accepted is None else accepted
    tally.count(result.line, accepted, result.report)
    for issue in result.report:
        _print_issue(issue, out, report_format, verbose)
    if sink is not None and not accepted and result.line is not None:
        sink.write(reject_line(result))


def read_trees(
    url: str,
    source: str,
    options: ValidationOptions,
    tally: Tally,
    out: IO[str],
    report_format: str,
    sink: IO[bytes] | None,
    load_options: dict[str, Any] | None = None,
) -> Iterator[DialogueTree]:
    """Stream the accepted trees of any input; count and report every record."""
    if source in CANONICAL:
        for result in validate_path(url, options):
            account(result, tally, out, report_format, sink)
            if result.accepted and result.tree is not None:
                yield result.tree
        return
    fmt = get_format(source)
    try:
        imported = fmt.load(url, **_accepted(load_options or {}, fmt.load))
    except Exception as exc:  # a truncated archive or a missing fsspec backend: report it
        account(file_failure(url, "read", exc), tally, out, report_format, None)
        return
    bad_lines = {i.line for i in imported.issues if i.severity == "error" and i.line is not None}
    tally.read += imported.records
    tally.rejected += len(bad_lines)
    tally.accepted += imported.records - len(bad_lines)
    tally.count_issues(imported.issues)
    for issue in imported.issues:
        _print_issue(issue, out, report_format)
        if sink is not None and issue.severity == "error":
            sink.write(
                msgspec.json.encode({"source": url, "line": issue.line, "errors": [issue]}) + b"\n"
            )
    yield from imported.trees


def _export_options(args: argparse.Namespace, root: str) -> dict[str, Any]:
    return {
        "mode": args.mode,
        "layout": args.layout,
        "criterion": args.criterion,
        "images": args.images,
        "source_root": root,
        "assistant_images": args.assistant_images,
        "single_image": args.single_image,
        "urls": args.urls,
    }


def _accepted(options: dict[str, Any], *functions: Any) -> dict[str, Any]:
    """The options the functions name (None means: the default)."""
    names = option_names(*functions)
    return {k: v for k, v in options.items() if k in names and v is not None}


def _for_export(fmt: Format, options: dict[str, Any]) -> dict[str, Any]:
    """The options a format's export takes, its record builder's and finish's too."""
    return _accepted(options, fmt.export, fmt.records, fmt.finish)


def run_convert(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        target = get_format(args.target)
        source = _source_format(args.input, args.source)
    except UnknownNameError as exc:
        raise UsageError(str(exc)) from None
    root = images_root_of(args.input, args.images_root)
    options = ValidationOptions(images_root=root)
    tally = tally_for(args)
    workers = args.workers or 1
    if workers > 1 and not (source == "jsonl" and _all_jsonl(args.input)):
        print("intermt: --workers applies to JSON Lines input; using one process", file=sys.stderr)
        workers = 1
    with rejects_file(args) as sink:
        export_options = _export_options(args, root)
        try:
            if workers > 1:
                loss = _convert_in_workers(
                    args, target, options, export_options, workers, tally, out, sink
                )
            else:
                layout = (
                    {"layout": args.layout} if source == "intermt-bench" and args.layout else {}
                )
                trees = read_trees(
                    args.input, source, options, tally, out, args.format, sink, layout
                )
                loss = target.export(trees, args.output, **_for_export(target, export_options))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    _print_summary(out, args.format, tally, [loss])
    return 1 if tally.failed else 0


def _all_jsonl(url: str) -> bool:
    from ._fs import expand_inputs

    try:
        return all(f.endswith((".jsonl", ".jsonl.gz")) for f in expand_inputs(url))
    except Exception:  # any fsspec backend error: the one-process path reports it
        return False


def _convert_in_workers(
    args: argparse.Namespace,
    target: Format,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    tally: Tally,
    out: IO[str],
    sink: IO[bytes] | None,
) -> LossReport:
    """``convert --workers N``: record formats are built in the workers; the lossless
    formats get trees validated in the workers."""
    from ._parallel import parallel_records, parallel_trees
    from .formats import write_records
    from .formats._base import folder_of

    def count(result: RecordResult, accepted: bool) -> None:
        account(result, tally, out, args.format, sink, accepted=accepted)

    if target.records is None:
        trees = parallel_trees(args.input, options, workers, count)
        return target.export(trees, args.output, **_for_export(target, export_options))
    chosen = _accepted({**export_options, "image_folder": folder_of(args.output)}, target.records)
    loss = LossReport(format=target.name)
    list(target.records([], loss, **chosen))  # names the report; refuses bad options early
    records = parallel_records(args.input, target.name, options, chosen, workers, count, loss)
    return write_records(
        target,
        records,
        args.output,
        loss,
        **_accepted(export_options, target.finish),
    )


def _print_summary(out: IO[str], fmt: str, tally: Tally, losses: list[LossReport]) -> None:
    tally.close()
    if fmt == "json":
        out.write(
            msgspec.json.encode(
                {"summary": tally.summary(), "exports": [x.to_dict() for x in losses]}
            ).decode()
            + "\n"
        )
        return
    out.write(tally.render() + "\n")
    for loss in losses:
        out.write(loss.render() + "\n")


STRATEGIES = ("all", "best_worst", "best_rest", "best_random")


def tree_stats(trees: Any) -> dict[str, Any]:
    """Counts over trees, streaming: paths, nodes by role, branch points, turns per path,
    images, ratings and their score distribution by dimension, judgment outcomes and tie
    rates, annotator agreement, and pair yield per strategy."""
    from .pairs import sample_pairs

    stats: dict[str, Any] = {
        "trees": 0,
        "paths": 0,
        "nodes": Counter(),
        "branch_points": 0,
        "path_turns": Counter(),
        "images": 0,
        "ratings": Counter(),
        "scores": {},
        "judgments": Counter(),
        "outcomes": {},
        "pair_yield": Counter(),
    }
    agree = {"pairs": 0, "exact": 0, "abs_diff": 0}
    for tree in trees:
        view = TreeView(tree)
        stats["trees"] += 1
        paths = view.paths()
        stats["paths"] += len(paths)
        stats["path_turns"].update(sum(1 for m in p if m.role == "user") for p in paths)
        stats["nodes"].update(n.role for n in tree.nodes)
        stats["branch_points"] += len(view.branch_points())
        stats["images"] += sum(1 for n in tree.nodes for p in n.content if type(p) is ImagePart)
        by_target: dict[tuple[str, str, str], list[int]] = {}
        for r in tree.ratings:
            stats["ratings"][r.dimension] += 1
            stats["scores"].setdefault(r.dimension, Counter())[r.score] += 1
            by_target.setdefault((r.target, r.scope, r.dimension), []).append(r.score)
        for scores in by_target.values():
            for i in range(len(scores)):
                for j in range(i + 1, len(scores)):
                    agree["pairs"] += 1
                    agree["exact"] += scores[i] == scores[j]
                    agree["abs_diff"] += abs(scores[i] - scores[j])
        for j in tree.judgments:
            stats["judgments"][j.scope] += 1
            for dim, outcome in j.outcomes.items():
                stats["outcomes"].setdefault(dim, Counter())[outcome] += 1
        for strategy in STRATEGIES:
            pairs, _ = sample_pairs([tree], strategy=strategy)
            stats["pair_yield"][strategy] += len(pairs)
    stats["tie_rate"] = {d: c["tie"] / sum(c.values()) for d, c in stats["outcomes"].items()}
    stats["agreement"] = {
        "measure": "pairwise exact agreement and mean absolute difference between two "
        "annotators' scores of the same target and dimension",
        "pairs": agree["pairs"],
        "exact": agree["exact"] / agree["pairs"] if agree["pairs"] else None,
        "mean_abs_diff": agree["abs_diff"] / agree["pairs"] if agree["pairs"] else None,
    }
    return stats


def _render_stats(stats: dict[str, Any]) -> str:
    def counts(c: Counter[Any]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "0"

    lines = [
        f"trees          {stats['trees']}",
        f"paths          {stats['paths']}",
        "nodes          " + counts(stats["nodes"]),
        f"branch points  {stats['branch_points']}",
        f"images         {stats['images']}",
        "turns per path " + counts(stats["path_turns"]),
        "judgments      " + counts(stats["judgments"]),
        "pair yield     " + counts(stats["pair_yield"]) + " (judgments and ratings, both scopes)",
        "ratings by dimension (count; scores):",
    ]
    lines += [
        f"  {d:<32} {n:>6}; {counts(stats['scores'][d])}"
        for d, n in sorted(stats["ratings"].items())
    ] or ["  none"]
    if stats["outcomes"]:
        lines.append("judgment outcomes by dimension (a, b, tie; tie rate):")
        lines += [
            f"  {d:<32} {c['a']}, {c['b']}, {c['tie']}; {stats['tie_rate'][d]:.1%}"
            for d, c in sorted(stats["outcomes"].items())
        ]
    a = stats["agreement"]
    if a["pairs"]:
        lines.append(
            f"annotator agreement: {a['exact']:.1%} exact, mean |difference| "
            f"{a['mean_abs_diff']:.2f} over {a['pairs']} score pairs "
            "(pairwise, same target and dimension)"
        )
    return "\n".join(lines)


def plot_stats(stats: dict[str, Any], folder: str) -> list[str]:
    """One PNG histogram of scores per dimension; needs matplotlib."""
    from ._errors import require

    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    written = []
    for dim, scores in sorted(stats["scores"].items()):
        fig, ax = plt.subplots(figsize=(4, 3))
        keys = sorted(scores)
        ax.bar([str(k) for k in keys], [scores[k] for k in keys], color="#4c72b0")
        ax.set_title(dim, fontsize=9)
        ax.set_xlabel("score")
        ax.set_ylabel("ratings")
        fig.tight_layout()
        path = os.path.join(folder, f"{dim}.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def run_stats(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        source = _source_format(args.input, args.source)
    except UnknownNameError as exc:
        raise UsageError(str(exc)) from None
    tally = tally_for(args)
    with open(os.devnull, "w") as quiet, rejects_file(args) as rejects:
        # issues are counted, not listed, in a summary
        stats = tree_stats(
            read_trees(args.input, source, ValidationOptions(), tally, quiet, "text", rejects)
        )
    if args.format == "json":
        out.write(msgspec.json.encode({**stats, "records": tally.summary()}).decode() + "\n")
    else:
        out.write(_render_stats(stats) + "\n" + tally.render() + "\n")
    if args.plot:
        for path in plot_stats(stats, args.plot):
            out.write(f"wrote {path}\n")
    return 1 if tally.failed else 0


EXPORT_PLAN: list[tuple[str, dict[str, Any], str]] = [
    ("jsonl", {}, "trees.jsonl"),
    ("parquet", {}, "trees.parquet"),
    ("parquet", {"level": "path"}, "paths.parquet"),
    ("parquet", {"level": "pair"}, "pairs.parquet"),
    ("hf", {}, "hf"),
    ("intermt-bench", {"layout": "flat"}, "intermt_flat.json"),
    ("intermt-bench", {"layout": "pair"}, "intermt_pair.json"),
    ("llava", {"mode": "sft"}, "llava/llava.json"),
    ("llava", {"mode": "dpo"}, "llava/llava_dpo.json"),
    ("sharegpt", {"mode": "sft"}, "llamafactory/intermt_sft.json"),
    ("sharegpt", {"mode": "ranking"}, "llamafactory/intermt_ranking.json"),
    ("trl", {"mode": "sft"}, "trl/sft.jsonl"),
    ("trl", {"mode": "preference"}, "trl/preference.jsonl"),
    ("trl", {"mode": "kto"}, "trl/kto.jsonl"),
    ("openai", {}, "openai.jsonl"),
]
"""What ``export-all`` writes: every registered format, in every mode."""


def run_export_all(args: argparse.Namespace, out: IO[str]) -> int:
    from ._jsonl import read_jsonl, write_jsonl

    root = images_root_of(args.input, None)
    options = ValidationOptions(images_root=root, check_images=args.check_images)
    tally = tally_for(args)
    names = {f.name for f in available_formats()}
    losses = []
    with tempfile.TemporaryDirectory() as tmp:
        # validate once; every export then streams the accepted trees back
        accepted = os.path.join(tmp, "accepted.jsonl")
        with rejects_file(args) as rejects:
            trees = read_trees(args.input, "jsonl", options, tally, out, "text", rejects)
            count = write_jsonl(trees, accepted)
        out.write(tally.render() + "\n")
        for name, extra, relative in EXPORT_PLAN:
            if name not in names:
                continue
            fmt = get_format(name)
            target = os.path.join(args.output, relative)
            copy = {"images": "copy"} if name in ("llava", "sharegpt", "trl") else {}
            chosen = _for_export(fmt, {"source_root": root, **copy, **extra})
            loss = fmt.export(read_jsonl(accepted), target, **chosen)
            losses.append(loss)
            out.write(f"{relative:<36} {loss.render()}\n")
    out.write(f"wrote {len(losses)} exports of {count} trees to {args.output}\n")
    return 1 if tally.failed else 0


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
            raise UsageError(f"bad weighted criterion {text!r}; write dim=weight,...") from None
    return text


def run_pairs(args: argparse.Namespace, out: IO[str]) -> int:
    from .pairs import PairReport, apply_pairs, iter_pairs

    if args.target != "pairs" and args.target not in PAIR_TARGETS:
        raise UsageError(
            f"unknown pair target {args.target!r}; choose from "
            + ", ".join(["pairs", *PAIR_TARGETS])
        )
    try:
        source = _source_format(args.input, args.source)
    except UnknownNameError as exc:
        raise UsageError(str(exc)) from None
    root = images_root_of(args.input, args.images_root)
    tally = tally_for(args)
    report = PairReport()
    checks = ValidationOptions(images_root=root)
    with rejects_file(args) as rejects:  # streaming: one tree at a time
        trees = read_trees(args.input, source, checks, tally, out, "text", rejects)
        per_tree = iter_pairs(
            trees,
            report,
            scope=args.scope,
            source=args.pair_source,
            strategy=args.strategy,
            criterion=parse_criterion(args.criterion),
            dimensions=args.dimensions.split(",") if args.dimensions else (),
            margin=args.margin,
            ties=args.ties,
            aggregate=args.aggregate,
            cap_per_branch=args.cap_per_branch,
            cap_per_tree=args.cap_per_tree,
            seed=args.seed,
        )
        if args.target == "pairs":
            from .formats._base import write_json_records

            pairs = (p for _, found in per_tree for p in found)
            summary = (
                f"pairs: {write_json_records(pairs, args.output, array=False)} records written"
            )
        else:
            name, extra = PAIR_TARGETS[args.target]
            fmt = get_format(name)
            options = {"source_root": root, "criterion": "overall", **extra}
            paired = (t for tree, found in per_tree for t in apply_pairs([tree], found))
            loss = fmt.export(paired, args.output, **_for_export(fmt, options))
            summary = loss.render()
    out.write(tally.render() + "\n" + report.render() + "\n" + summary + "\n")
    return 1 if tally.failed else 0


def run_split(args: argparse.Namespace, out: IO[str]) -> int:
    from ._jsonl import write_jsonl
    from .pairs import split_trees

    try:
        fractions = [float(x) for x in args.fractions.split(",")]
    except ValueError:
        raise UsageError(f"bad --fractions {args.fractions!r}; write e.g. 0.9,0.05,0.05") from None
    if any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise UsageError("--fractions must be non-negative and not all zero")
    groups = [g for g in args.group_by.split(",") if g]
    unknown = set(groups) - {"tree", "prompt", "image"}
    if unknown:
        raise UsageError(f"unknown --group-by {sorted(unknown)}; choose from tree, prompt, image")
    source = _source_format(args.input, args.source)
    tally = tally_for(args)
    with rejects_file(args) as rejects:
        trees = list(
            read_trees(args.input, source, ValidationOptions(), tally, out, "text", rejects)
        )
    parts = split_trees(trees, fractions, group_by=groups, seed=args.seed)
    names = (
        ["train", "validation", "test"]
        if len(parts) == 3
        else [f"part-{i}" for i in range(len(parts))]
    )
    out.write(tally.render() + "\n")
    for name, part in zip(names, parts, strict=True):
        target = (
            os.path.join(args.output, f"{name}.jsonl")
            if is_local(args.output)
            else f"{args.output}/{name}.jsonl"
        )
        write_jsonl(part, target)
        share = len(part) / len(trees) if trees else 0.0
        out.write(f"{name:<11} {len(part):>7} trees ({share:.1%})\n")
    return 1 if tally.failed else 0


def run_show(args: argparse.Namespace, out: IO[str]) -> int:
    if not is_local(args.output):
        raise UsageError("show writes pages that link each other: -o must be a local path")
    source = _source_format(args.input, args.source)
    root = images_root_of(args.input, args.images_root)
    tally = tally_for(args)
    options = ValidationOptions(images_root=root)
    with rejects_file(args) as rejects:
        trees = read_trees(args.input, source, options, tally, out, "text", rejects)
        written = _show_pages(args, trees, root, tally, out)
    out.write(tally.render() + "\n")
    pages = len(written) - (0 if args.tree is not None else 1)
    out.write(f"wrote {args.output} ({pages} tree page{'s' if pages != 1 else ''})\n")
    return 1 if tally.failed else 0


def _show_pages(
    args: argparse.Namespace, trees: Iterator[DialogueTree], root: str, tally: Tally, out: IO[str]
) -> list[str]:
    from .viewer import write_pages

    if args.tree is None:
        return write_pages(trees, args.output, images=args.images, images_root=root)
    first = next((t for t in trees if t.id == args.tree), None)
    if first is None:
        out.write(tally.render() + "\n")
        raise UsageError(f"no tree with id {args.tree!r} in {args.input}")
    return write_pages([first], args.output, images=args.images, images_root=root, single=True)
