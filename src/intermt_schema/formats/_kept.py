"""The keys a record holds beyond what the trees carry: kept on import, on the record's
last message (or a preference record's judgment), and restored by an export to the
same format and kind.

>>> extra_keys({"id": "x", "messages": []}, {"messages"}, "openai", ())
('openai', {'id': 'x'})
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from msgspec import structs

from ..schema._dimensions import DESIRABLE, KTO
from ..schema._structs import Judgment, Message, Rating
from ._linear import LABEL, RECORD_KEYS
from ._registry import LossReport

if TYPE_CHECKING:
    from ..tree._merge import Conversation

__all__ = ["ABSENT_KEYS", "LABEL_KEYS", "MESSAGE_KEYS", "Keys", "carried_keys",
           "extra_keys", "keep",
           "kept_keys", "kept_message_keys", "message_keys", "restore_keys"]  # fmt: skip

Keys = Collection[str] | Callable[[dict[str, Any]], Collection[str]]
"""The keys a reader carries into trees, or a function giving them for a record."""

ABSENT_KEYS = "intermt_absent"
"""Under a format's kept record keys (:data:`RECORD_KEYS`): the keys its writer always
writes that the source record lacked, which an export leaves out again."""


LABEL_KEYS = {"sharegpt": "label", "trl": "label", "alpaca": "kto_tag"}
"""The record key holding an unpaired (KTO) label, by format."""


def restore_keys(
    record: dict[str, Any],
    holder: Message | Judgment,
    key: str,
    loss: LossReport,
    *others: Message,
    labels: bool = True,
) -> dict[str, Any]:
    """``record`` with the keys its source record held beyond the trees, kept under
    ``key`` (``"<format>/<sft|pair>"``) on ``holder``: its last message, or the
    judgment of a preference record (``others``: where older files kept them, the
    chosen answer). Keys kept from another format or kind are counted in ``loss``,
    since this record cannot hold them. The record's unpaired label (see
    :data:`LABEL`) is written under the format's key where the format holds one and
    ``labels`` (the kind of record) allows it, and counted otherwise.

    >>> m = Message(id="a", role="assistant", meta={RECORD_KEYS: {"llava/sft": {"id": "x"}}})
    >>> restore_keys({"id": "t:a"}, m, "llava/sft", LossReport(format="llava"))
    {'id': 'x'}
    """
    label = holder.meta.get(LABEL) if isinstance(holder, Message) else None
    if label is not None:
        label_key = LABEL_KEYS.get(key.split("/")[0]) if key.endswith("/sft") else None
        if label_key is None or not labels:
            loss.drop("unpaired labels (desirable ratings; these records hold none)")
        else:
            record[label_key] = label
    kept = kept_keys(holder, *others)
    if not kept:
        return record
    for source, values in kept.items():
        if source == key:
            record.update((k, v) for k, v in values.items() if k != ABSENT_KEYS)
            for absent in values.get(ABSENT_KEYS, ()):
                record.pop(absent, None)
        else:
            loss.drop(f"record keys of {source} records", len(values))
    return record


def kept_keys(*holders: Message | Judgment) -> dict[str, dict[str, Any]]:
    """The record keys kept on the first of ``holders`` that keeps any, by
    ``"<format>/<sft|pair>"`` (see :func:`restore_keys`)."""
    return next((h.meta[RECORD_KEYS] for h in holders if RECORD_KEYS in h.meta), {})


def carried_keys(keys: Keys | None, record: Any) -> Collection[str] | None:
    if not callable(keys):
        return keys
    return keys(record) if isinstance(record, dict) else None


def extra_keys(
    record: Any, keys: Collection[str] | None, kept_as: str | None, written: Collection[str]
) -> tuple[str, dict[str, Any]] | None:
    """``(format, {key: value})`` for the keys of ``record`` outside ``keys`` that are
    kept, and under :data:`ABSENT_KEYS` the keys of ``written`` it lacks; None when
    there are none or they are not kept."""
    if kept_as is None or keys is None or not isinstance(record, dict):
        return None
    extra = {k: v for k, v in record.items() if k not in keys}
    absent = sorted(k for k in written if k not in record)
    if absent:
        extra[ABSENT_KEYS] = absent
    return (kept_as, extra) if extra else None


def keep(conversations: list[Conversation], kept: tuple[str, dict[str, Any]]) -> None:
    """Put a record's extra keys on its last message, or on the judgment of a
    preference record: a pair repeated with other keys keeps each record's own. A
    supervised record's unpaired label (``true``/``false`` under the format's key in
    :data:`LABEL_KEYS`) becomes a ``desirable`` rating of its answer, in the ``kto``
    dimension set."""
    pair = next((c for c in conversations if c.judgments), None)
    if pair is not None:
        judgment = pair.judgments[0]
        meta = {**judgment.meta, RECORD_KEYS: {f"{kept[0]}/pair": kept[1]}}
        pair.judgments[0] = structs.replace(judgment, meta=meta)
        return
    holder = conversations[-1] if conversations else None
    if holder is None or not holder.messages:
        return
    last = holder.messages[-1]
    key, values = f"{kept[0]}/sft", kept[1]
    label_key = LABEL_KEYS.get(kept[0], "")
    if isinstance(values.get(label_key), bool) and last.role == "assistant":
        label = values[label_key]
        values = {k: v for k, v in values.items() if k != label_key}
        rating = Rating(target="", scope="local", dimension=DESIRABLE, score=int(label))
        holder.ratings = [*holder.ratings, rating]
        holder.meta = structs.replace(holder.meta, dimension_sets=[KTO.name])
    if not values:
        return
    meta = {**last.meta, RECORD_KEYS: {**last.meta.get(RECORD_KEYS, {}), key: values}}
    holder.messages[-1] = structs.replace(last, meta=meta)


MESSAGE_KEYS = "intermt_message_keys"
"""The message meta key keeping what a source message held beyond the message's fields,
``{"<format>": {key: value}}``, for an export to the same format to write back."""


def kept_message_keys(raw: dict[str, Any], known: Collection[str], fmt: str) -> dict[str, Any]:
    """The message meta keeping the keys of ``raw`` outside ``known`` (nothing if none).

    >>> kept_message_keys({"role": "tool", "name": "f"}, {"role"}, "trl")
    {'intermt_message_keys': {'trl': {'name': 'f'}}}
    """
    extra = {k: v for k, v in raw.items() if k not in known}
    return {MESSAGE_KEYS: {fmt: extra}} if extra else {}


def message_keys(meta: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The keys a message kept for ``fmt`` (see :func:`kept_message_keys`)."""
    kept = meta.get(MESSAGE_KEYS) if meta else None
    return dict(kept.get(fmt) or {}) if isinstance(kept, dict) else {}
