"""The tutorial (docs/tutorial.md) in Python: InterMT-Bench records -> validated trees
-> preference pairs -> a LLaMA-Factory ranking dataset.

    python examples/tutorial.py [OUT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import intermt_schema as im
from intermt_schema.formats import get_format, intermt_bench, sharegpt
from intermt_schema.sampling.pairs import apply_pairs, sample_pairs

DATA = Path(__file__).resolve().parent / "data"


def main(out: Path) -> int:
    # 1. records in the InterMT-Bench score layout (with the release, start at 2)
    bench = out / "bench.json"
    intermt_bench.export(im.read_jsonl(str(DATA / "trees.jsonl")), str(bench), layout="score")

    # 2. import: paths merge into trees; every import issue names its record
    imported = intermt_bench.load(str(bench))
    for issue in imported.issues:
        print(issue.render())
    reports = [im.validate(t, im.ValidationOptions(images_root=str(DATA))) for t in imported.trees]
    print(
        f"{imported.records} records -> {len(imported.trees)} trees, "
        f"{sum(not r.ok for r in reports)} with errors"
    )

    # 4. pairs of sibling answers by their local text-quality rating
    pairs, report = sample_pairs(
        imported.trees, scope="local", strategy="best_worst", criterion="text_quality"
    )
    print(report.render())

    # 5. a LLaMA-Factory ranking dataset with its dataset_info.json, images copied in
    target = out / "lf" / "intermt_rank.json"
    paired = apply_pairs(imported.trees, pairs)
    loss = get_format("sharegpt").export(
        paired, str(target), mode="ranking", source_root=str(DATA), images="copy"
    )
    print(loss.render())
    records = json.loads(target.read_text())
    broken = [p for r in records for p in sharegpt.check_record(r)]
    info = json.loads((target.parent / "dataset_info.json").read_text())
    print(
        f"{len(records)} ranking records, {len(broken)} breaking LLaMA-Factory's rules; "
        f"dataset_info.json names {sorted(info)}"
    )
    return 0 if records and not broken and all(r.ok for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/tutorial"))
    )
