"""The plumbing of record formats: export trees as a format's records, and import
records into trees without raising, each record validated on its own and accounted for.

>>> from intermt_schema.io._json_records import write_json_records
>>> _ = write_json_records([{"messages": []}, 5], "memory://doc/r.jsonl", array=False)
>>> result = load_records("memory://doc/r.jsonl", lambda record, number, issues: [])
>>> result.records, sorted(result.rejected)
(2, [('memory://doc/r.jsonl', 2)])
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import msgspec
from msgspec import structs

from ..io._fs import expand_inputs, is_local, source_problem
from ..io._json_records import json_lines, read_json_records, verbatim, write_json_lines
from ..schema._dimensions import DESIRABLE, KTO
from ..schema._structs import (
    ROLES,
    DialogueTree,
    ImageRef,
    Judgment,
    MediaRef,
    Message,
    Role,
    stamped,
)
from ..validation._report import Issue, unreadable
from ..validation._rules import ValidationOptions, rule_issue
from ._kept import ABSENT_KEYS, Keys, carried_keys, extra_keys, keep, restore_keys
from ._linear import RECORD_ENDS, RECORD_KEYS
from ._registry import Format, ImportResult, LossReport, folder_of

if TYPE_CHECKING:
    from ..tree._merge import Conversation, MergeResult

R = TypeVar("R", ImageRef, MediaRef)

__all__ = [
    "ABSENT_KEYS",
    "RECORD_KEYS",
    "RecordParser",
    "bad_record",
    "export_records",
    "has_turns",
    "image_ref",
    "known_role",
    "load_records",
    "media_ref",
    "preference",
    "restore_keys",
    "split_options",
    "write_records",
]


def write_records(
    fmt: Format, lines: Iterable[bytes], url: str, loss: LossReport, **options: Any
) -> LossReport:
    """Write a record format's records, given as blocks of encoded JSON Lines (see
    ``write_json_lines``), to ``url`` (then ``fmt.finish``); fills in the count."""
    loss.records = write_json_lines(lines, url, array=fmt.array)
    if fmt.finish is not None:
        fmt.finish(url, loss, **options)
    return loss


def export_records(fmt: Format, trees: Iterable[Any], url: str, **options: Any) -> LossReport:
    """The export of every record format: ``fmt.records`` written to ``url``, copied
    or inline images placed in the folder beside it, then ``fmt.finish`` with its own
    options. The options were checked by :meth:`Format.export`."""
    build = fmt.records
    assert build is not None, f"{fmt.name} is not a record format"
    chosen, finishing = split_options(fmt, url, options)
    loss = LossReport(format=fmt.name)
    return write_records(fmt, json_lines(build(trees, loss, **chosen)), url, loss, **finishing)


def split_options(
    fmt: Format, url: str, options: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A record format's export options for its record builder (with ``image_folder``
    set to the folder of ``url``) and for its ``finish``."""
    chosen = {k: v for k, v in options.items() if k in fmt.export_options}
    if "image_folder" in fmt.export_options:
        chosen["image_folder"] = folder_of(url)
    return chosen, {k: v for k, v in options.items() if k in fmt.finish_options}


def image_ref(text: str) -> ImageRef:
    """The image a training file names by a string: a ``data:`` URI carries its bytes,
    a URL is a ``uri``, anything else a ``path``.

    >>> image_ref("s3://bucket/cat.png").uri, image_ref("images/cat.png").path
    ('s3://bucket/cat.png', 'images/cat.png')
    """
    return _reference(ImageRef, text)


def media_ref(text: str) -> MediaRef:
    """The video or audio file a training file names by a string, as :func:`image_ref`.

    >>> media_ref("clips/a.mp4").path
    'clips/a.mp4'
    """
    return _reference(MediaRef, text)


def _reference(cls: type[R], text: str) -> R:
    if text.startswith("data:") and ";base64," in text:
        head, data = text.split(";base64,", 1)
        return cls(bytes=base64.b64decode(data), mime=head[5:] or None)
    if "://" in text:
        return cls(uri=text)
    return cls(path=text)


def known_role(value: Any) -> Role:
    """A message role the schema knows. Any other (``function``, ``bot``) raises
    ``ValueError``, so the record is refused as ``import.bad_record`` and kept, never
    silently re-labelled.

    >>> known_role("function")
    Traceback (most recent call last):
    ...
    ValueError: role 'function' is not one of system, user, assistant, tool
    """
    if value not in ROLES:
        raise ValueError(f"role {value!r} is not one of {', '.join(ROLES)}")
    return cast(Role, value)


def has_turns(record: dict[str, Any]) -> bool:
    """Whether ``record["conversations"]`` is a list of ``from``/``role`` turns.

    >>> has_turns({"conversations": [{"from": "human", "value": "Hi"}]})
    True
    """
    turns = record.get("conversations")
    return (
        isinstance(turns, list)
        and bool(turns)
        and isinstance(turns[0], dict)
        and ("from" in turns[0] or "role" in turns[0])
    )


def bad_record(url: str, number: int, message: str) -> Issue:
    """The error for a record that cannot be read."""
    return rule_issue("import.bad_record", message, file=url, line=number)


RecordParser = Callable[[dict[str, Any], int, list[Issue]], list["Conversation"]]


"""``(record, record_number, issues) -> conversations``; may raise KeyError, TypeError,
ValueError, AttributeError or IndexError for a malformed record."""


def load_records(
    url: str,
    parse: RecordParser,
    merge: Any = None,
    keys: Keys | None = None,
    kept_as: str | None = None,
    written: Collection[str] = (),
    records_end: bool = True,
) -> ImportResult:
    """Read every record of a JSON array or JSON Lines file (or of each such file in a
    folder) into conversations with ``parse``, then merge them into trees. A record
    that is not JSON, not an object, or that ``parse`` cannot read becomes an
    ``import.bad_record`` issue; a source that cannot be opened or read becomes a
    ``file.unreadable`` issue. Nothing raises. ``merge`` replaces ``merge_paths``.

    The top-level keys of a record outside ``keys`` (the keys ``parse`` carries into
    the trees, or a function giving them for a record) are kept when ``kept_as``
    names the format (see :mod:`._kept`), and otherwise counted in the result's
    ``dropped``, as are the records that added nothing to what earlier records made
    (duplicates, or prefixes of longer ones). A record that lacks one of the keys
    ``written`` (those the format's writer always writes) is kept as lacking it
    (:data:`ABSENT_KEYS`), so that its export leaves the key out again. With
    ``records_end`` (formats of one record per path), a supervised record repeated or
    held by a longer one is marked where it ended, to be written again; otherwise
    (formats of whole trees) it is counted as dropped."""
    from ..tree._merge import merge_paths

    issues: list[Issue] = []
    conversations: list[Conversation] = []
    rejected: dict[tuple[str, int], bytes] = {}
    dropped: Counter[str] = Counter()
    count = 0
    merging = merge or merge_paths
    try:
        files = [f for f in expand_inputs(url) if not f.endswith(".parquet")]
    except Exception as exc:  # a missing file, a missing fsspec backend
        return ImportResult([], [unreadable(url, "open", exc)], 0)
    if not files:
        return ImportResult([], [unreadable(url, "read", "no *.json or *.jsonl files")], 0)
    for file in files:
        problem = source_problem(url, file)
        if problem is not None:
            issues.append(unreadable(file, "read", problem))
            continue
        try:
            for number, record, error, line in read_json_records(file):
                count += 1
                carried = carried_keys(keys, record)
                extra = extra_keys(record, carried, kept_as, written)
                found, parsed = _parsed(file, number, record, error, parse, merging, extra)
                conversations += parsed
                if any(i.severity == "error" for i in found):
                    rejected[(file, number)] = verbatim(record, line)
                elif carried is not None and kept_as is None:
                    dropped.update(f"record key {k!r}" for k in record if k not in carried)
                issues += found
        except Exception as exc:  # a cut archive, a folder, a special file: report it
            issues.append(unreadable(file, "read", exc))
    merged = merging(conversations)
    _declare_labels(merged.trees)
    repeated = _mark_record_ends(merged, conversations) if records_end else 0
    trees, refused = _valid_trees(url, merged.trees, merged.lines)
    conflicts = [structs.replace(i, file=i.file or url) for i in merged.issues]
    issues += conflicts + refused
    _recall(rejected, issues)
    if len(merged.redundant) > repeated:
        held = "records already held by an earlier one (a duplicate or a prefix)"
        dropped[held] += len(merged.redundant) - repeated
    return ImportResult(trees, issues, count, rejected, dropped)


def _declare_labels(trees: list[DialogueTree]) -> None:
    """A tree holding imported unpaired labels declares the ``kto`` set, whichever of
    its records came first."""
    for i, tree in enumerate(trees):
        if tree.meta.dimension_sets is None and any(r.dimension == DESIRABLE for r in tree.ratings):
            meta = structs.replace(tree.meta, dimension_sets=[KTO.name])
            trees[i] = stamped(structs.replace(tree, meta=meta))


def _mark_record_ends(merged: MergeResult, conversations: list[Conversation]) -> int:
    """Mark in the trees where supervised records (one conversation, without ratings or
    judgments) end beyond what the tree's shape says (see :data:`RECORD_ENDS`), each
    with the record keys it kept; returns how many of the redundant records the marks
    hold, so that only the others are counted as dropped."""
    per_record = Counter((c.origin, c.line) for c in conversations)
    ends: dict[tuple[str, str], list[dict[str, Any]]] = {}
    lines: set[int | None] = set()
    for c, end in zip(conversations, merged.ends, strict=True):
        if (
            end is not None
            and per_record[(c.origin, c.line)] == 1
            and not c.judgments
            and all(r.dimension == DESIRABLE for r in c.ratings)  # only its own label
        ):
            ends.setdefault(end, []).append(c.messages[-1].meta.get(RECORD_KEYS, {}))
            lines.add(c.line)
    for tree in merged.trees if ends else []:
        parents = {n.parent for n in tree.nodes}
        for i, node in enumerate(tree.nodes):
            records = ends.get((tree.id, node.id), [])
            extra = records if node.id in parents else records[1:]  # a leaf ends one
            if extra:
                tree.nodes[i] = structs.replace(node, meta={**node.meta, RECORD_ENDS: extra})
    return sum(1 for line in merged.redundant if line in lines)


def _recall(rejected: dict[tuple[str, int], bytes], issues: list[Issue]) -> None:
    """Add to ``rejected`` the records refused after parsing (a conflict, a tree that
    validation refused), read again from their files."""
    wanted: dict[str, set[int]] = {}
    for i in issues:
        refused = i.severity == "error" and i.file and i.line is not None
        if refused and (i.file, i.line) not in rejected:
            wanted.setdefault(i.file or "", set()).add(i.line or 0)
    for file, numbers in wanted.items():
        for number, record, _, line in read_json_records(file):
            if number in numbers:
                rejected[(file, number)] = verbatim(record, line)


def _import_options(url: str) -> ValidationOptions:
    """How imported trees are validated: as canonical ones, images under the input's
    folder."""
    root = os.path.dirname(os.path.abspath(url)) if is_local(url) else None
    return ValidationOptions(images_root=root)


def _valid_trees(
    url: str, trees: list[DialogueTree], lines: dict[str, list[int]]
) -> tuple[list[DialogueTree], list[Issue]]:
    """The imported trees that validation accepts, and the issues of the others: an
    imported tree passes the same rules as a canonical one before any exporter sees
    it. Every source line of a refused tree is rejected with it."""
    from ..validation._checks import validate

    options = _import_options(url)
    kept: list[DialogueTree] = []
    issues: list[Issue] = []
    for tree in trees:
        report = validate(tree, options)
        if report.ok:
            kept.append(tree)
            continue
        source: list[int | None] = list(dict.fromkeys(lines.get(tree.id, []))) or [None]
        first, rest = source[0], source[1:]
        issues += [structs.replace(i, file=url, line=first) for i in report.errors]
        issues += [
            rule_issue(
                "import.bad_record",
                f"part of tree {tree.id!r}, which validation refused",
                file=url,
                line=line,
                tree=tree.id,
            )
            for line in rest
        ]
    return kept, issues


def _parsed(
    url: str,
    number: int,
    record: Any,
    error: str | None,
    parse: RecordParser,
    merge: Callable[[list[Conversation]], MergeResult],
    kept: tuple[str, dict[str, Any]] | None = None,
) -> tuple[list[Issue], list[Conversation]]:
    """The issues of one record, and its conversations when it has no error; ``kept``
    holds the record's extra keys, put on its last message."""
    if error is None and not isinstance(record, dict):
        error = "a record must be a JSON object"
    if error is None:
        found: list[Issue] = []
        try:
            conversations = [structs.replace(c, line=number) for c in parse(record, number, found)]
            if kept is not None:
                keep(conversations, kept)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:  # the parser's issues, and the record's own tree's, placed at this record
            found += _record_problems(url, conversations, merge)
            found = [structs.replace(i, file=url, line=number) for i in found]
            refused = any(i.severity == "error" for i in found)
            return found, [] if refused else conversations
    return [bad_record(url, number, error)], []


def _record_problems(
    url: str,
    conversations: list[Conversation],
    merge: Callable[[list[Conversation]], MergeResult],
) -> list[Issue]:
    """The errors of the trees one record makes on its own, decoded from their JSON
    and validated as a canonical file's would be. A value of the wrong type (a text
    that is not a string) or a broken turn order is refused with its own record, and
    never reaches the merge, another record's tree, or an exporter."""
    from ..validation._structural import decode_and_validate

    try:
        merged = merge(conversations)
    except (TypeError, ValueError, AttributeError) as exc:
        return [rule_issue("import.bad_record", f"{type(exc).__name__}: {exc}")]
    options = _import_options(url)
    issues = [i for i in merged.issues if i.severity == "error"]
    for tree in merged.trees:
        issues += decode_and_validate(msgspec.json.encode(tree), options)[1].errors
    return issues


def preference(
    prompt: list[Message], chosen: list[Message], rejected: list[Message], number: int
) -> list[Conversation]:
    """The two conversations of a chosen/rejected record, with the judgment between
    their answers (``overall="a"``: the chosen one)."""
    from ..tree._merge import Conversation, path_ids

    if [m.content for m in chosen] == [m.content for m in rejected]:
        raise ValueError("chosen and rejected are the same answer: a pair needs two")
    a_id = path_ids([*prompt, *chosen])[-1]
    b_id = path_ids([*prompt, *rejected])[-1]
    judgment = Judgment(a=a_id, b=b_id, scope="local", overall="a")
    return [
        Conversation(messages=[*prompt, *chosen], judgments=[judgment], record=number),
        Conversation(messages=[*prompt, *rejected], record=number),
    ]
