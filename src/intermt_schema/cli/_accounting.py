"""The accounting every command shares: read any input into trees while counting
every record, keep the rejected ones verbatim, print issues and summaries.

Every record read ends up accepted or rejected: ``read = accepted + rejected``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

import msgspec

from ..formats import detect_format
from ..formats._options import LoadOptions
from ..formats._registry import LossReport, get_format
from ..formats.llamafactory import detect_folder
from ..io._fs import atomic_output, is_local, source_problem
from ..io._json_records import read_json_records
from ..io._readers import file_failure, validate_path
from ..schema._structs import DialogueTree
from ..tree._edits import rebase_image_paths
from ..validation._report import Issue, RecordResult, Report
from ..validation._rules import ValidationOptions

__all__ = [
    "CANONICAL",
    "REPORT_FORMATS",
    "Tally",
    "UsageError",
    "account",
    "add_input",
    "images_root_of",
    "print_summary",
    "read_trees",
    "refuse_overwriting",
    "reject_line",
    "rejects_file",
    "source_format",
    "tally_for",
]

CANONICAL = ("jsonl", "parquet")
REPORT_FORMATS = ("text", "json")


@contextlib.contextmanager
def rejects_file(path: str | None) -> Iterator[IO[bytes] | None]:
    """The ``--rejects`` file, written atomically, or None when not asked for."""
    if path:
        with atomic_output(path) as sink:
            yield sink
    else:
        yield None


def tally_for(quiet: bool) -> Tally:
    """A tally with a progress bar when stderr is a terminal and ``quiet`` is off."""
    return Tally(progress=not quiet and sys.stderr.isatty())


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


def refuse_overwriting(inputs: Sequence[str], *outputs: str | None) -> None:
    """A ``UsageError`` when an output (a file, or a folder of outputs) is one of the
    inputs: writing it would destroy what is being read."""
    sources = {_real(path) for path in inputs if is_local(path)}
    for output in outputs:
        if output and is_local(output) and _real(output) in sources:
            raise UsageError(f"the output {output} is an input; write it elsewhere")


def _real(path: str) -> str:
    return os.path.realpath(path.removeprefix("file://"))


def add_input(parser: argparse.ArgumentParser) -> None:
    """The input argument and ``--from``, as every command that converts takes them."""
    parser.add_argument("input", help="file, folder or fsspec URL")
    parser.add_argument(
        "--from", dest="source", metavar="FMT", help="input format (default: detect)"
    )


def add_check_media(parser: argparse.ArgumentParser) -> None:
    """``--check-media`` (alias ``--check-images``), as every command that validates
    takes it."""
    parser.add_argument(
        "--check-media",
        "--check-images",
        dest="check_images",
        action="store_true",
        help="open every image, video and audio file: images decode, media headers are known",
    )


def source_format(url: str, given: str | None) -> str:
    """The format of ``url``: ``given`` (checked), else detected; a missing local
    path or an undetectable format is a ``UsageError``."""
    if is_local(url) and not os.path.exists(url.removeprefix("file://")):
        raise UsageError(f"no such file or folder: {url}")
    if is_local(url) and not os.path.isdir(url.removeprefix("file://")):
        problem = source_problem(url, url)
        if problem is not None:  # a pipe or a device would block or never end
            raise UsageError(f"cannot read {url}: {problem}")
    if given:
        get_format(given)
        return given
    if is_local(url) and os.path.isdir(url.removeprefix("file://")):
        return "llamafactory" if detect_folder(url) else "jsonl"
    found = detect_format(url)
    if found is not None:
        return found
    first = _first_record(url)
    if isinstance(first, dict):  # records of a format no reader recognises
        keys = ", ".join(sorted(map(str, first))[:8]) or "none"
        raise UsageError(
            f"cannot tell the format of {url} (its first record's keys: {keys}); "
            "name it with --from (see 'intermt formats')"
        )
    if url.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"  # empty, or not JSON: the canonical reader reports each line
    raise UsageError(f"cannot tell the format of {url}; name it with --from")


def _first_record(url: str) -> object:
    try:
        return next((r for _, r, _, _ in read_json_records(url)), None)
    except Exception:  # unreadable: the reader reports it
        return None


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


def workers_for(input: str, source: str, workers: int, *, per_file_images: bool) -> int:
    """How many processes to run: ``workers`` for JSON Lines of canonical trees (what
    the workers read), else one, said on stderr. A folder whose files resolve their
    images each in their own folder (``per_file_images``) needs one process too."""
    if workers <= 1:
        return workers
    from ..scale.workers import jsonl_only

    if not (source == "jsonl" and jsonl_only(input)):
        print("intermt: --workers applies to JSON Lines input; using one process", file=sys.stderr)
        return 1
    if per_file_images and os.path.isdir(input.removeprefix("file://")):
        print("intermt: --workers on a folder needs --images-root; using one process",
              file=sys.stderr)  # fmt: skip
        return 1
    return workers


def read_trees(
    url: str,
    source: str,
    options: ValidationOptions,
    tally: Tally,
    out: IO[str],
    report_format: str,
    sink: IO[bytes] | None,
    load_options: LoadOptions | None = None,
    *,
    per_file_images: bool = False,
) -> Iterator[DialogueTree]:
    """Stream the accepted trees of any input; count and report every record.

    With ``per_file_images`` and a local folder of canonical files, each file's image
    paths resolve against that file's own folder, as trainers and ``datasets`` resolve
    them, and come out relative to the folder given, so that one images root (the
    folder) serves every tree."""
    if source in CANONICAL:
        folder = _local_folder(url) if per_file_images else None
        if folder is not None:
            options = dataclasses.replace(options, images_root=None)  # each file's own
        for result in validate_path(url, options):
            account(result, tally, out, report_format, sink)
            if result.accepted and result.tree is not None:
                if folder is None:
                    yield result.tree
                    continue
                below = os.path.relpath(os.path.dirname(os.path.abspath(result.source)), folder)
                yield rebase_image_paths(result.tree, below.replace(os.sep, "/"))
        return
    fmt = get_format(source)
    try:
        imported = fmt.load(url, **(load_options or {}))
    except Exception as exc:  # a truncated archive or a missing fsspec backend: report it
        account(file_failure(url, "read", exc), tally, out, report_format, None)
        return
    bad_lines = {
        (i.file, i.line) for i in imported.issues if i.severity == "error" and i.line is not None
    }
    tally.read += imported.records
    tally.rejected += len(bad_lines)
    tally.accepted += imported.records - len(bad_lines)
    tally.count_issues(imported.issues)
    by_record: dict[tuple[str | None, int | None], list[Issue]] = {}
    for issue in imported.issues:
        _print_issue(issue, out, report_format)
        if issue.severity == "error":
            by_record.setdefault((issue.file, issue.line), []).append(issue)
    if imported.dropped:  # what accepted records held that no tree does: said, not lost
        if report_format == "json":
            out.write(msgspec.json.encode({"import_dropped": imported.dropped}).decode() + "\n")
        else:
            out.write(imported.render_dropped(source) + "\n")
    if sink is not None:
        for (file, line), errors in by_record.items():
            raw = imported.rejected.get((file, line)) if file and line is not None else None
            result = RecordResult(file or url, line, None, Report(errors), raw)
            sink.write(reject_line(result))
    yield from imported.trees


def _local_folder(url: str) -> str | None:
    path = url.removeprefix("file://")
    return os.path.abspath(path) if is_local(url) and os.path.isdir(path) else None


def print_summary(out: IO[str], fmt: str, tally: Tally, losses: list[LossReport]) -> None:
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
