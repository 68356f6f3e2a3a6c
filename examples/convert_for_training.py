"""Convert trees for LLaVA, LLaMA-Factory and TRL, and check every record against the
rules each trainer enforces.

    python examples/convert_for_training.py [OUT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import intermt_schema as im
from intermt_schema.formats import get_format, llava, sharegpt, trl

DATA = Path(__file__).resolve().parent / "data"

EXPORTS = [
    ("llava", "sft", "llava/llava.json", llava.check_record),
    ("llava", "dpo", "llava/llava_dpo.json", llava.check_record),
    ("sharegpt", "sft", "llamafactory/intermt_sft.json", sharegpt.check_record),
    (
        "sharegpt",
        "ranking",
        "llamafactory/intermt_rank.json",
        sharegpt.check_record,
    ),
    ("trl", "sft", "trl/sft.jsonl", trl.check_record),
    ("trl", "preference", "trl/preference.jsonl", trl.check_record),
]


def records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    if path.suffix == ".json":
        loaded: list[dict[str, Any]] = json.loads(text)
        return loaded
    return [json.loads(line) for line in text.splitlines()]


def main(out: Path) -> int:
    trees = list(im.read_jsonl(str(DATA / "trees.jsonl")))
    problems = 0
    for name, mode, relative, check in EXPORTS:
        target = out / relative
        loss = get_format(name).export(
            trees, str(target), mode=mode, source_root=str(DATA), images="copy"
        )
        print(loss.render())
        for number, record in enumerate(records(target), start=1):
            for problem in check(record):
                print(f"{target}:{number}: {problem}")
                problems += 1
    print(f"wrote {len(EXPORTS)} datasets to {out}; {problems} records break a trainer's rules")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples-scripts/train")))
