"""The batch functions in several processes: ``datasets.map(batched=True, num_proc=2)``
converts the examples to TRL preference rows, the same rows the exporter writes.

    python examples/scale_out.py [OUT]

With Ray Data the same function runs as ``ds.map_batches(convert_batch, ...)``; see
docs/scale.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from datasets import Dataset

import intermt_schema as im
from intermt_schema.formats import get_format
from intermt_schema.scale.batches import convert_batch, records_of

DATA = Path(__file__).resolve().parent / "data"


def main(out: Path) -> int:
    lines = [x for x in (DATA / "trees.jsonl").read_text().splitlines() if x.strip()]
    ds = Dataset.from_dict({"text": lines})
    converted = ds.map(
        convert_batch,
        batched=True,
        batch_size=2,
        num_proc=2,
        remove_columns=ds.column_names,
        fn_kwargs={"format": "trl", "mode": "preference", "source_root": str(DATA)},
    )
    rows = records_of(converted.to_dict())
    count = len(next(iter(rows.values()), []))
    print(f"{len(lines)} trees -> {count} TRL preference rows, in 2 processes")
    target = out / "preference.jsonl"
    get_format("trl").export(
        (im.decode_tree(x) for x in lines),
        str(target),
        mode="preference",
        source_root=str(DATA),
    )
    exported = [json.loads(x) for x in target.read_text().splitlines()]
    same = [json.loads(r) for r in converted["record"] if r is not None] == exported
    print("same rows as the one-process exporter:", same)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/scale")))
