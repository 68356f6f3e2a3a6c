"""The format registry: ``Format`` (a reader, a writer, declared options, a
``detect`` hook), loss and import reports, and the paths beside an output.

>>> import intermt_schema.formats
>>> [f.name for f in available_formats()][:3]
['align-anything', 'alpaca', 'hf']
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import OptionError, UnknownNameError
from ..io._fs import is_local
from ..schema._structs import DialogueTree
from ..validation._report import Issue
from ._options import Choices, ExportOptions, LoadOptions, check_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "Format",
    "ImportResult",
    "LossReport",
    "Reader",
    "RecordBuilder",
    "Writer",
    "available_formats",
    "folder_of",
    "get_format",
    "register_format",
    "registered_formats",
    "sibling",
]


@dataclass
class LossReport:
    """What an export could not express, counted by reason.

    >>> loss = LossReport(format="llava")
    >>> loss.drop("ratings", 4)
    >>> print(loss.render())
    llava: 0 records written; dropped: ratings 4
    """

    format: str
    records: int = 0
    images: int = 0
    media: int = 0
    """Video and audio files named."""
    dropped: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    held: Counter[str] = field(default_factory=Counter)
    """Optional columns the records hold, by record key (``videos``, ``tools``), with
    how many records hold each: what a format's ``finish`` declares."""

    def drop(self, what: str, count: int = 1) -> None:
        """Count ``count`` items of ``what`` that did not make it into the output."""
        if count:
            self.dropped[what] += count

    def change(self, what: str, count: int = 1) -> None:
        """Count ``count`` items of ``what`` that were kept but moved or reshaped."""
        if count:
            self.changed[what] += count

    @property
    def lossless(self) -> bool:
        return not self.dropped

    def merge(self, other: LossReport) -> None:
        self.records += other.records
        self.images += other.images
        self.media += other.media
        self.dropped.update(other.dropped)
        self.changed.update(other.changed)
        self.notes.extend(other.notes)
        self.held.update(other.held)

    def render(self) -> str:
        lost = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items())) or "nothing"
        files = [
            f"{n} {kind}"
            for n, kind in ((self.images, "images"), (self.media, "video/audio files"))
            if n
        ]
        images = f" ({', '.join(files)})" if files else ""
        text = f"{self.format}: {self.records} records written{images}; dropped: {lost}"
        if self.changed:
            text += "; changed: " + ", ".join(f"{k} {v}" for k, v in sorted(self.changed.items()))
        return "\n".join([text, *(f"  note: {n}" for n in self.notes)])

    def to_dict(self) -> dict[str, Any]:
        held = {"held": dict(self.held)} if self.held else {}
        return {
            "format": self.format,
            "records": self.records,
            "dropped": dict(self.dropped),
            "changed": dict(self.changed),
            "notes": self.notes,
            **held,
        }


@dataclass
class ImportResult:
    """Trees rebuilt from a file, with the problems met and the records read;
    ``rejected`` holds each refused record verbatim, by ``(file, record number)``, and
    ``dropped`` counts, by reason, what accepted records held that the trees do not
    (keys the format's reader does not carry, records another already held)."""

    trees: list[DialogueTree]
    issues: list[Issue] = field(default_factory=list)
    records: int = 0
    rejected: dict[tuple[str, int], bytes] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)

    def render_dropped(self, source: str) -> str:
        """One line for the import's loss report, or ``""`` when nothing was dropped.

        >>> result = ImportResult([], dropped=Counter({"record key 'label'": 2}))
        >>> result.render_dropped("sharegpt")
        "sharegpt import: dropped: record key 'label' 2"
        """
        if not self.dropped:
            return ""
        lost = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()))
        return f"{source} import: dropped: {lost}"


Writer = Callable[..., LossReport]


Reader = Callable[..., ImportResult]


RecordBuilder = Callable[..., Iterator[dict[str, Any]]]


"""``records(trees, loss, **options)``: a format's output records one by one, counting
what they cannot express in ``loss`` (and naming it, e.g. ``trl (sft)``)."""


@dataclass(frozen=True)
class Format:
    """A registered format: a name, whether export is lossless, its reader and its
    writer, and the options each takes.

    ``export(trees, url, **options) -> LossReport`` writes; ``load(url, **options) ->
    ImportResult`` reads back into trees. Both check their options against
    ``export_options`` and ``load_options`` first (:func:`check_options`), so an option
    the format does not take, or a value it does not accept, is an ``OptionError``.

    A record format (its output a sequence of JSON records) gives ``records`` instead
    of ``writer`` (see :data:`RecordBuilder`), so that batches can be converted
    anywhere (:mod:`intermt_schema.scale`); ``array`` says whether the file is one JSON
    array, and ``finish(url, loss, **finish_options)`` writes what goes beside it (and may
    amend the file, knowing from ``loss`` what was written).
    ``image_folder``, where a record format places copied images, is set by export to
    the output's folder. ``detect(first_record)`` says whether a file whose first
    record is this is in the format (see :func:`intermt_schema.formats.detect_format`).
    """

    name: str
    description: str
    lossless: bool
    reader: Reader
    writer: Writer | None = None
    export_options: Mapping[str, Choices] = field(default_factory=dict)
    load_options: Mapping[str, Choices] = field(default_factory=dict)
    suffix: str = ".jsonl"
    records: RecordBuilder | None = None
    array: bool = False
    finish: Callable[..., None] | None = None
    finish_options: Mapping[str, Choices] = field(default_factory=dict)
    detect: Callable[[dict[str, Any]], bool] | None = None

    def check_export(self, options: Mapping[str, object]) -> None:
        """Raise ``OptionError`` unless ``options`` are ones this format's export takes."""
        declared = {**self.export_options, **self.finish_options}
        check_options(self.name, declared, options, takers=_takers)

    def export(
        self, trees: Iterable[DialogueTree], url: str, **options: Unpack[ExportOptions]
    ) -> LossReport:
        """Write ``trees`` to ``url``; what the format cannot express is in the report."""
        if self.writer is None and self.records is None:
            raise OptionError(f"{self.name} is read, not written: {self.description}")
        self.check_export(options)
        if self.writer is not None:
            return self.writer(trees, url, **options)
        from ._records import export_records

        return export_records(self, trees, url, **options)

    def load(self, url: str, **options: Unpack[LoadOptions]) -> ImportResult:
        """Read ``url`` (a file, a folder of files or an fsspec URL) back into trees."""
        check_options(f"{self.name} (load)", self.load_options, options)
        return self.reader(url, **options)

    def build_records(
        self, trees: Iterable[DialogueTree], loss: LossReport, **options: Any
    ) -> Iterator[dict[str, Any]]:
        """A record format's records, one by one, after checking ``options``."""
        if self.records is None:
            raise OptionError(f"{self.name} is not a record format")
        check_options(self.name, self.export_options, options, takers=_takers)
        return self.records(trees, loss, **options)


def _takers(option: str) -> list[str]:
    return [f.name for f in available_formats() if option in f.export_options]


_REGISTRY: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    """Add a format to the registry (warns when it replaces one of the same name)."""
    if fmt.name in _REGISTRY:
        warnings.warn(f"format {fmt.name!r} replaced", stacklevel=2)
    _REGISTRY[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    """A registered format; the error lists every registered name."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: not a name at all (a Format, a dict)
        raise UnknownNameError(
            f"unknown format {name!r}; available formats: {', '.join(sorted(_REGISTRY))}"
        ) from None


def registered_formats() -> list[Format]:
    """Every registered format, in registration order."""
    return list(_REGISTRY.values())


def available_formats() -> list[Format]:
    """Every registered format, by name."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def folder_of(url: str) -> str:
    """The folder (path or URL) that holds ``url``.

    >>> folder_of("out/llava/data.json"), folder_of("s3://b/x/data.json")
    ('out/llava', 's3://b/x')
    """
    if is_local(url):
        return os.path.dirname(url.removeprefix("file://"))
    return url.rsplit("/", 1)[0]


def sibling(url: str, name: str) -> str:
    """``name`` in the folder that holds ``url``.

    >>> sibling("s3://b/x/data.json", "dataset_info.json")
    's3://b/x/dataset_info.json'
    """
    folder = folder_of(url)
    return os.path.join(folder, name) if is_local(url) else f"{folder}/{name}"
