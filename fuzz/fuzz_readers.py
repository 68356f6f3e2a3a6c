"""Coverage-guided fuzzing of every reader with atheris.

Each input picks a reader (the first byte) and feeds it the rest: the canonical
decoder and validator, JSON Lines, gzip and Parquet files, every registered format's
importer (as a JSON array and as JSON Lines), the batch functions, and the image
checks. Any exception other than the library's own ``IntermtError`` is a finding; so
are hangs and memory blow-ups (libFuzzer's ``-timeout`` and ``-rss_limit_mb``).

Run it (atheris needs Linux or macOS and CPython <= 3.12 wheels or a compiler)::

    pip install -e '.[all]' atheris
    python fuzz/fuzz_readers.py fuzz/corpus -max_total_time=3600 -timeout=20 -rss_limit_mb=4096

An empty or missing corpus folder is seeded from the bundled examples first
(``--seeds FOLDER`` only writes the seeds).

``check_one`` runs without atheris too; the test suite feeds it Hypothesis data.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

import fsspec

import intermt_schema as im
from intermt_schema.formats import available_formats, get_format
from intermt_schema.scale.batches import convert_batch, validate_batch

_counter = itertools.count()
_memory = fsspec.filesystem("memory")


def _file(suffix: str, data: bytes) -> str:
    url = f"memory://fuzz/{next(_counter)}{suffix}"
    with _memory.open(url, "wb") as f:
        f.write(data)
    return url


def _drop(url: str) -> None:
    _memory.rm(url)


def _validate_file(suffix: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        url = _file(suffix, data)
        try:
            for result in im.validate_path(url, max_record_bytes=1 << 20):
                assert result.accepted or result.report.errors
        finally:
            _drop(url)

    return run


def _gzip_jsonl(data: bytes) -> None:
    packed = gzip.compress(data)
    _validate_file(".jsonl.gz")(packed[: len(packed) - (data[:1] or b"\0")[0] % 8])


def _load(name: str, suffix: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        url = _file(suffix, data)
        try:
            result = get_format(name).load(url)
            assert all(isinstance(t, im.DialogueTree) for t in result.trees)
        finally:
            _drop(url)

    return run


def _decode(data: bytes) -> None:
    tree, report = im.decode_and_validate(data)
    assert tree is not None or not report.ok


def _batches(data: bytes) -> None:
    lines = data.split(b"\n")[:16]
    validate_batch({"text": lines})
    convert_batch({"text": lines}, "trl", mode="preference")


def _image(data: bytes) -> None:
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(id="q", role="user", content=[im.ImagePart(image=im.ImageRef(bytes=data))])
        ],
    )
    limits = im.ImageLimits(max_pixels=4_000_000, max_bytes=1 << 20)
    im.validate(tree, im.ValidationOptions(check_images=True, image_limits=limits))


_parquet = _validate_file(".parquet")

TARGETS: list[Callable[[bytes], None]] = [
    _decode,
    _validate_file(".jsonl"),
    _gzip_jsonl,
    _parquet,
    _batches,
    _image,
    *(
        _load(f.name, suffix)
        for f in available_formats()
        if f.name not in ("hf", "jsonl", "parquet")
        for suffix in (".json", ".jsonl")
    ),
]


def check_one(data: bytes) -> None:
    """Feed one input to the reader its first byte picks; only ``IntermtError`` may
    escape (and it is caught here)."""
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    with contextlib.suppress(im.IntermtError):
        target(data[1:])


def write_seeds(folder: Path) -> int:
    """A seed corpus from the bundled examples: each line for each target, whole
    files, the Parquet file and the images."""
    examples = Path(__file__).resolve().parent.parent / "examples" / "data"
    lines = [x for x in (examples / "trees.jsonl").read_bytes().splitlines() if x.strip()]
    folder.mkdir(parents=True, exist_ok=True)
    url = _file(".parquet", b"")
    im.write_parquet((im.decode_tree(x) for x in lines), url)
    with _memory.open(url, "rb") as f:
        seeds = [bytes([TARGETS.index(_parquet)]) + f.read()]
    for i in range(len(TARGETS)):
        seeds += [bytes([i]) + payload for payload in [*lines[:3], b"\n".join(lines)]]
    for image in sorted((examples / "images").glob("*.png"))[:4]:
        seeds.append(bytes([TARGETS.index(_image)]) + image.read_bytes())
    for count, seed in enumerate(seeds):
        (folder / f"seed-{count:04d}").write_bytes(seed)
    return len(seeds)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        print(f"wrote {write_seeds(Path(sys.argv[2]))} seeds to {sys.argv[2]}")
        return
    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None and not (corpus.is_dir() and any(corpus.iterdir())):
        print(f"seeding {corpus} with {write_seeds(corpus)} inputs from examples/")
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
