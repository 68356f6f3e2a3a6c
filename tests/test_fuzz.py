"""A fuzz target per importer: records the SDK wrote, mutated, then read back.

Whatever the mutation, ``load`` never raises, every record is counted (read =
accepted + rejected), each rejected record is kept verbatim, the records left intact
are accepted, and every tree that comes out passes validation (validate-then-export).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import intermt_schema as im

from .conftest import EXAMPLES, count_cases

VARIANTS = [
    ("sharegpt", {"mode": "sft"}),
    ("sharegpt", {"mode": "ranking"}),
    ("llava", {"mode": "sft"}),
    ("llava", {"mode": "dpo"}),
    ("trl", {"mode": "sft"}),
    ("trl", {"mode": "preference"}),
    ("trl", {"mode": "kto"}),
    ("openai", {}),
    ("alpaca", {"mode": "sft"}),
    ("alpaca", {"mode": "ranking"}),
    ("intermt-bench", {"layout": "flat"}),
    ("intermt-bench", {"layout": "score"}),
    ("intermt-bench", {"layout": "pair"}),
    ("trl", {"mode": "prompt-only"}),
    ("trl", {"mode": "prompt-completion"}),
    ("trl", {"mode": "preference-implicit"}),
    ("llamafactory-v1", {"mode": "sft"}),
    ("llamafactory-v1", {"mode": "dpo"}),
    ("align-anything", {"mode": "preference"}),
    ("oasst", {}),
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
DEEP = "[" * 20_000 + "]" * 20_000
"""Valid JSON nested deeper than Python's recursion limit."""


def _records(tmp: Path, name: str, options: dict[str, Any]) -> list[Any]:
    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    out = tmp / f"seed{im.get_format(name).suffix}"
    im.get_format(name).export(trees, str(out), **options)
    text = out.read_text()
    if im.get_format(name).array:
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value``, itself included."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _places(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _places(inner, (*at, index))
    return found


def _mutated(record: Any, at: tuple[Any, ...], new: Any) -> Any:
    """``record`` with the value at ``at`` replaced by ``new`` (deleted when ``new`` is
    the ``_DELETE`` marker); the original is left alone."""
    if not at:
        return new
    copy = json.loads(json.dumps(record))
    holder = copy
    for step in at[:-1]:
        holder = holder[step]
    if new is _DELETE:
        del holder[at[-1]]
    else:
        holder[at[-1]] = new
    return copy


_DELETE = object()


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=[f"{n}-{o}" for n, o in VARIANTS])
def test_importer_accounts_for_every_mutated_record(
    tmp_path: Path, name: str, options: dict[str, Any]
) -> None:
    fmt = im.get_format(name)
    seeds = _records(tmp_path, name, options)
    assert seeds, f"{name} {options} wrote no records from the examples"
    seen = count_cases(f"test_importer_accounts_for_every_mutated_record[{name}-{options}]")
    runs = iter(range(10**6))

    @settings(
        derandomize=True,
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        chosen = data.draw(st.lists(st.sampled_from(range(len(seeds))), min_size=1, max_size=4))
        records: list[tuple[str, bool]] = []  # (JSON text, left intact)
        for index in chosen:
            record = seeds[index]
            how = data.draw(st.sampled_from(["intact", "delete", "replace", "deep"]))
            if how == "intact":
                records.append((json.dumps(record), True))
                continue
            if how == "deep":
                records.append((DEEP, False))
                continue
            at = data.draw(st.sampled_from(_places(record)))
            if how == "delete" and at:
                changed = _mutated(record, at, _DELETE)
            else:
                changed = _mutated(record, at, data.draw(JSON))
            records.append((json.dumps(changed), changed == record))
        folder = tmp_path / f"run{next(runs)}"
        folder.mkdir()
        path = folder / f"in{fmt.suffix}"
        if fmt.array:
            path.write_text("[\n" + ",\n".join(text for text, _ in records) + "\n]\n")
        else:
            path.write_text("".join(text + "\n" for text, _ in records))

        result = fmt.load(str(path))  # never raises

        assert result.records == len(records)
        refused = {i.line for i in result.issues if i.severity == "error"}
        assert None not in refused, [i.render() for i in result.issues]
        assert refused <= set(range(1, len(records) + 1))
        for number in refused:  # each refused record kept verbatim
            kept = result.rejected[(str(path), number)]
            text = records[number - 1][0]
            if fmt.array:
                assert json.loads(kept) == json.loads(text) if text != DEEP else kept
            else:
                assert kept == text.encode()
        for number, (_, intact) in enumerate(records, 1):
            if intact and number in refused:  # only a clash with an earlier record
                codes = {i.code for i in result.issues if i.line == number}
                assert codes <= {"merge.conflict", "merge.duplicate"}, codes
        for tree in result.trees:
            assert im.validate(tree).ok, im.validate(tree).render()
        for number, (_, intact) in enumerate(records, 1):
            state = "refused" if number in refused else "accepted"
            seen[f"{'intact' if intact else 'mutated'}, {state}"] += 1

    check()
    assert seen["mutated, refused"] >= 10 and seen["intact, accepted"] >= 10, seen
