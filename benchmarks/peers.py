"""The library against the routes a user might take instead, side by side.

    python benchmarks/peers.py [--trees 3000] [--repeats 5]

On the synthetic corpus (``corpus.py``), each figure is the median of ``--repeats``
runs, and each ratio compares two routes run alternately in this one process:

- validation: ``validate_path`` (decode and every rule) against the *limit*, msgspec
  decoding each line into the schema's Structs with no checks after, and against
  ``fastjsonschema`` compiling ``spec/``'s JSON Schema over ``orjson``-parsed lines,
  every route dropping each result once made (and the limit keeping them, once more);
- Parquet: validate then ``write_parquet`` against pyarrow's C++ JSON reader writing
  Parquet (no validation, on every core), and against ``datasets.load_dataset("json")``
  + ``to_parquet``; and the same export in two worker processes (``--workers 2``);
- ``datasets`` folders: validate then ``write_hf_dataset``, and ``intermt publish``
  (validation, five configurations, card, Croissant; run in this process, in one
  process and with ``--workers 2``), against ``load_dataset("json")`` +
  ``save_to_disk``;
- workers: ``intermt convert --to sharegpt`` and ``--to parquet`` with ``--workers 2``
  against one process, whole commands (2 cores here).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import write_corpus

ROOT = Path(__file__).resolve().parent.parent


def alternate(routes: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each route, the routes run in turn ``repeats`` times."""
    times: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(repeats):
        for name, fn in routes.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _nothing(*_: object) -> None:
    """An accounting callback that keeps nothing."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sections", default="validate,parquet,hf,workers")
    args = parser.parse_args()
    if args.trees < 1 or args.repeats < 1:
        parser.error("--trees and --repeats must be at least 1")
    sections = set(args.sections.split(","))
    import datasets
    import fastjsonschema
    import msgspec
    import orjson
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    import intermt_schema as im
    from intermt_schema.cli import main
    from intermt_schema.io._hf import write_hf_dataset
    from intermt_schema.io._readers import TreeIds
    from intermt_schema.scale.workers import parallel_lossless, parallel_validate

    datasets.disable_progress_bars()
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    corpus = write_corpus(work / "corpus", args.trees)
    size = corpus.stat().st_size / 1e6
    print(f"corpus: {args.trees} trees, {size:.1f} MB of JSON Lines; medians of {args.repeats}")
    rows: list[tuple[str, str, str]] = []

    def accepted() -> object:
        return (r.tree for r in im.validate_path(str(corpus)) if r.accepted)

    def ratio(name: str, ours: float, peer: float, target: str) -> None:
        rows.append((name, f"{peer / ours:.2f}x ({ours:.2f} s vs {peer:.2f} s)", target))

    if "validate" in sections:
        decoder = msgspec.json.Decoder(im.DialogueTree)
        schema = json.loads((ROOT / "spec" / "intermt-tree.v1.schema.json").read_text())
        check = fastjsonschema.compile(schema)

        def lines() -> list[bytes]:
            with open(corpus, "rb") as f:
                return f.readlines()

        # the routes stream: each result is dropped once made, as validate_path's caller
        # drops it; "kept" keeps the decoded trees in a list, which also times the
        # garbage collector's passes over them (the peers table before this one did so)
        def two_workers() -> None:  # what validate --workers 2 runs
            checks = im.ValidationOptions()
            parallel_validate(str(corpus), checks, 2, _nothing, TreeIds())

        t = alternate({
            "ours": lambda: sum(1 for r in im.validate_path(str(corpus)) if r.accepted),
            "two workers": two_workers,
            "limit": lambda: deque(map(decoder.decode, lines()), maxlen=0),
            "kept": lambda: [decoder.decode(line) for line in lines()],
            "fastjsonschema": lambda: deque((check(orjson.loads(x)) for x in lines()), maxlen=0),
        }, args.repeats)  # fmt: skip
        ratio("full validation vs the limit (typed decode, no checks), streaming", t["ours"],
              t["limit"], ">= 0.8x")  # fmt: skip
        ratio("the same, the limit keeping its trees in a list", t["ours"], t["kept"], "")
        ratio("full validation in 2 worker processes vs the limit (one process)",
              t["two workers"], t["limit"], "")  # fmt: skip
        ratio("full validation in 2 worker processes vs one process", t["two workers"],
              t["ours"], "")  # fmt: skip
        ratio("full validation vs fastjsonschema + orjson", t["ours"], t["fastjsonschema"],
              ">= 5x")  # fmt: skip

    if "parquet" in sections:
        out = work / "out.parquet"

        def via_datasets() -> None:
            cache = tempfile.mkdtemp(dir=work)
            ds = datasets.load_dataset("json", data_files=str(corpus), cache_dir=cache)
            ds["train"].to_parquet(str(out))
            shutil.rmtree(cache)

        def two_workers() -> None:  # what convert --to parquet --workers 2 runs
            # images checked as validate_path checks them, and not embedded, as the
            # one-process route above does not embed them
            checks = im.ValidationOptions(images_root=str(corpus.parent))
            parallel_lossless(str(corpus), str(out), "parquet", checks, None, 2, _nothing)

        t = alternate({
            "ours": lambda: im.write_parquet(accepted(), str(out)),  # type: ignore[arg-type]
            "two workers": two_workers,
            "pyarrow": lambda: pq.write_table(pajson.read_json(str(corpus)), str(out)),
            "datasets": via_datasets,
        }, args.repeats)  # fmt: skip
        ratio("Parquet export vs pyarrow JSON reader + writer (no checks)", t["ours"],
              t["pyarrow"], ">= 0.8x")  # fmt: skip
        ratio("Parquet export vs datasets JSON + to_parquet", t["ours"], t["datasets"],
              ">= 2x")  # fmt: skip
        ratio("Parquet export in 2 worker processes vs pyarrow (which uses every core)",
              t["two workers"], t["pyarrow"], "")  # fmt: skip
        ratio("Parquet export in 2 worker processes vs datasets", t["two workers"],
              t["datasets"], "")  # fmt: skip
        ratio("Parquet export in 2 worker processes vs one process", t["two workers"],
              t["ours"], "")  # fmt: skip

    if "hf" in sections:

        def via_datasets() -> None:
            cache = tempfile.mkdtemp(dir=work)
            ds = datasets.load_dataset("json", data_files=str(corpus), cache_dir=cache)
            ds["train"].save_to_disk(str(work / "hf-peer"))
            shutil.rmtree(cache)
            shutil.rmtree(work / "hf-peer")

        def ours_hf() -> None:
            write_hf_dataset(accepted(), str(work / "hf"), images_root=str(corpus.parent))  # type: ignore[arg-type]
            shutil.rmtree(work / "hf")

        def publish_command(workers: str) -> Callable[[], None]:
            def publish() -> None:  # what `intermt publish` runs, validation included
                flags = ["-o", str(work / "hub"), "--no-plots", "--group-by", "tree", "-q"]
                code = main(["publish", str(corpus), *flags, "--workers", workers], io.StringIO())
                assert code == 0
                shutil.rmtree(work / "hub")

            return publish

        ours_publish, ours_publish_two = publish_command("1"), publish_command("2")

        t = alternate({"hf": ours_hf, "publish": ours_publish, "publish two": ours_publish_two,
                       "datasets": via_datasets}, args.repeats)  # fmt: skip
        ratio("--to hf (images embedded) vs datasets JSON + save_to_disk", t["hf"],
              t["datasets"], ">= 1x")  # fmt: skip
        ratio("intermt publish (validation, 5 configurations, card, Croissant) vs that route",
              t["publish"], t["datasets"], ">= 1x")  # fmt: skip
        ratio("intermt publish --workers 2 vs that route", t["publish two"],
              t["datasets"], "")  # fmt: skip
        ratio("intermt publish --workers 2 vs one process", t["publish two"], t["publish"], "")

    if "workers" in sections:
        # as for an installed package, whose modules pip compiles: bytecode is cached
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def command(workers: int, target: str, suffix: str) -> Callable[[], object]:
            return lambda: subprocess.run(
                [sys.executable, "-m", "intermt_schema.cli", "convert", str(corpus), "--to",
                 target, "-o", str(work / f"w{workers}.{suffix}"), "--workers", str(workers),
                 "-q"], check=True, capture_output=True, env=env,
            )  # fmt: skip

        t = alternate({
            "two": command(2, "sharegpt", "json"), "one": command(1, "sharegpt", "json"),
            "two parquet": command(2, "parquet", "parquet"),
            "one parquet": command(1, "parquet", "parquet"),
        }, args.repeats)  # fmt: skip
        ratio("convert --to sharegpt --workers 2 vs one process (whole command)", t["two"],
              t["one"], ">= 1.7x")  # fmt: skip
        ratio("convert --to parquet --workers 2 vs one process (whole command)",
              t["two parquet"], t["one parquet"], "")  # fmt: skip

    print("| figure | ratio (ours vs peer) | target |")
    print("| --- | --- | --- |")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
