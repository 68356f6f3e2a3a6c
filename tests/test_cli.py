from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import intermt_schema as im
from intermt_schema.cli import main

from .conftest import EXAMPLES


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_examples_validate_clean_with_image_checks() -> None:
    code, text = run("validate", str(EXAMPLES), "--check-images", "--strict")
    assert code == 0, text
    assert text.strip() == "6 records read: 6 accepted, 0 rejected (0 errors, 0 warnings, 0 infos)"


def test_every_record_is_accepted_or_rejected_with_reasons(tmp_path: Path) -> None:
    good = (EXAMPLES / "trees.jsonl").read_bytes().splitlines()[0]
    data = tmp_path / "mixed.jsonl"
    data.write_bytes(b"\n".join([good, b"{broken", b"\xff\xfe", good, b'{"id": 3}']) + b"\n")
    shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    rejects = tmp_path / "rejects.jsonl"
    code, text = run("validate", str(data), "--rejects", str(rejects), "--format", "json")
    assert code == 1
    summary = json.loads(text.splitlines()[-1])["summary"]
    assert summary["read"] == 5 and summary["accepted"] == 2 and summary["rejected"] == 3
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [k["line"] for k in kept] == [2, 3, 5]
    assert kept[0]["record"] == "{broken"
    assert kept[1]["record_base64"] == "//4="
    assert all(k["errors"] and k["errors"][0]["code"].startswith("schema.") for k in kept)


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--no-such-option", "x"])
    assert exc.value.code == 2


def test_console_script_runs_without_traceback_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\x00\x01garbage\n")
    proc = subprocess.run(
        [sys.executable, "-m", "intermt_schema.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "bad.jsonl:1: error schema.json" in proc.stdout


def test_schema_command_prints_the_spec() -> None:
    code, text = run("schema")
    assert code == 0
    assert json.loads(text)["title"].startswith("InterMT dialogue tree")


def test_convert_names_the_formats_when_given_a_wrong_one(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "convert",
            str(EXAMPLES / "trees.jsonl"),
            "--to",
            "alpacca",
            "-o",
            str(tmp_path / "x.json"),
        ]
    )
    assert code == 2
    names = ", ".join(f.name for f in im.available_formats())
    assert f"available formats: {names}" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_convert_counts_every_record_and_keeps_rejects(tmp_path: Path) -> None:
    good = (EXAMPLES / "trees.jsonl").read_bytes().splitlines()
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"\n".join([good[0], b"{oops", good[1], b'{"id":"x","nodes":[]}']) + b"\n")
    shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    code, text = run(
        "convert",
        str(data),
        "--to",
        "sharegpt",
        "-o",
        str(tmp_path / "out.json"),
        "--rejects",
        str(tmp_path / "rej.jsonl"),
    )
    assert code == 1
    assert "4 records read: 2 accepted, 2 rejected" in text
    assert "sharegpt (sft): 12 records written" in text
    rejected = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejected] == [2, 4]
    assert (
        json.loads((tmp_path / "dataset_info.json").read_text())["out"]["formatting"] == "sharegpt"
    )


def test_convert_intermt_bench_to_canonical_and_back(tmp_path: Path) -> None:
    from .conftest import fixture_path

    source = fixture_path("intermt_bench", "crucial_step_sample.json")
    code, text = run(
        "convert",
        str(source),
        "--from",
        "intermt-bench",
        "--to",
        "jsonl",
        "-o",
        str(tmp_path / "t.jsonl"),
    )
    assert code == 0, text
    assert "40 records read: 40 accepted, 0 rejected" in text
    code, text = run(
        "convert",
        str(tmp_path / "t.jsonl"),
        "--to",
        "intermt-bench",
        "-o",
        str(tmp_path / "back.json"),
    )
    assert code == 0 and "intermt-bench (flat): 40 records written; dropped: nothing" in text
    code, text = run("stats", str(tmp_path / "t.jsonl"))
    assert "trees          12" in text and "branch points  23" in text


def test_convert_detects_the_input_format(tmp_path: Path) -> None:
    code, _ = run(
        "convert", str(EXAMPLES / "trees.jsonl"), "--to", "llava", "-o", str(tmp_path / "l.json")
    )
    assert code == 0
    code, text = run(
        "convert", str(tmp_path / "l.json"), "--to", "jsonl", "-o", str(tmp_path / "t.jsonl")
    )
    assert code == 0 and "36 records read: 36 accepted" in text


def test_export_all_writes_every_format(tmp_path: Path) -> None:
    code, text = run("export-all", str(EXAMPLES), "-o", str(tmp_path), "--check-images")
    assert code == 0, text
    from intermt_schema.cli.export_all import EXPORT_PLAN

    assert f"wrote {len(EXPORT_PLAN)} exports of 6 trees" in text
    for relative in [
        "trees.parquet",
        "oasst.jsonl",
        "align_anything/preference.json",
        "trl/prompt_only.jsonl",
        "hf/dataset_info.json",
        "llava/llava.json",
        "llamafactory/dataset_info.json",
        "trl/preference.jsonl",
        "openai.jsonl",
    ]:
        assert (tmp_path / relative).exists(), relative
    copied = json.loads((tmp_path / "llava" / "llava.json").read_text())[0]["image"]
    assert (tmp_path / "llava" / copied).is_file()


def test_formats_command_lists_every_format() -> None:
    code, text = run("formats")
    assert code == 0
    assert [line.split()[0] for line in text.splitlines()] == [
        "align-anything",
        "alpaca",
        "hf",
        "intermt-bench",
        "jsonl",
        "llamafactory",
        "llamafactory-v1",
        "llava",
        "oasst",
        "openai",
        "parquet",
        "sharegpt",
        "trl",
    ]


def test_stats_reports_distributions_ties_agreement_and_yield(tmp_path: Path) -> None:
    code, text = run("stats", str(EXAMPLES / "trees.jsonl"), "--format", "json")
    assert code == 0
    stats = json.loads(text)
    trees = [json.loads(line) for line in (EXAMPLES / "trees.jsonl").read_text().splitlines()]
    ratings = [r for t in trees for r in t["ratings"]]
    assert sum(stats["ratings"].values()) == len(ratings)
    assert stats["scores"]["style_coherence"] == dict(
        Counter(str(r["score"]) for r in ratings if r["dimension"] == "style_coherence")
    )
    judgments = [j for t in trees for j in t["judgments"]]
    ties = Counter(o for j in judgments for d, o in j["outcomes"].items() if d == "text_quality")
    assert stats["tie_rate"]["text_quality"] == ties["tie"] / sum(ties.values())
    # the second annotator's helpfulness score on every rated leaf makes one pair each
    assert stats["agreement"]["pairs"] == sum(1 for r in ratings if r["annotator"] == "ann-2")
    assert set(stats["pair_yield"]) == {"all", "best_worst", "best_rest", "best_random"}
    assert (
        stats["pair_yield"]["all"]
        >= stats["pair_yield"]["best_rest"]
        >= stats["pair_yield"]["best_worst"]
    )


def test_stats_plots_one_histogram_per_dimension(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    code, _ = run("stats", str(EXAMPLES / "trees.jsonl"), "--plot", str(tmp_path))
    assert code == 0
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 9 and all((tmp_path / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_pairs_and_split_commands(tmp_path: Path) -> None:
    code, text = run(
        "pairs",
        str(EXAMPLES / "trees.jsonl"),
        "--strategy",
        "best_rest",
        "--scope",
        "local",
        "--to",
        "pairs",
        "-o",
        str(tmp_path / "p.jsonl"),
    )
    assert code == 0
    pairs = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert pairs and all(p["scope"] == "local" for p in pairs)
    assert f"pairs: {len(pairs)} records written" in text
    code, text = run(
        "pairs",
        str(EXAMPLES / "trees.jsonl"),
        "--to",
        "trl",
        "-o",
        str(tmp_path / "trl.jsonl"),
        "--criterion",
        "text_quality=2,helpfulness=1",
    )
    assert code == 0 and "trl (preference)" in text
    code, text = run(
        "split",
        str(EXAMPLES / "trees.jsonl"),
        "--fractions",
        "0.5,0.5",
        "--group-by",
        "tree,prompt",
        "-o",
        str(tmp_path / "split"),
    )
    assert code == 0
    ids = [
        json.loads(x)["id"]
        for name in ("part-0", "part-1")
        for x in (tmp_path / "split" / f"{name}.jsonl").read_text().splitlines()
    ]
    assert sorted(ids) == sorted(
        json.loads(x)["id"] for x in (EXAMPLES / "trees.jsonl").read_text().splitlines()
    )


def test_missing_input_is_named(tmp_path: Path, capsys) -> None:
    code = main(
        ["convert", str(tmp_path / "nope.json"), "--to", "llava", "-o", str(tmp_path / "x.json")]
    )
    assert code == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_unreadable_inputs_of_any_format_are_reported_not_raised(tmp_path: Path) -> None:
    truncated = tmp_path / "t.json.gz"
    truncated.write_bytes(b"\x1f\x8b\x08garbage")
    code, text = run("convert", str(truncated), "--from", "llava", "--to", "jsonl",
                     "-o", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert code == 1 and "file.unreadable" in text
    # a folder is read file by file; canonical trees are no ShareGPT records: each is refused
    code, text = run("convert", str(EXAMPLES), "--from", "sharegpt", "--to", "jsonl",
                     "-o", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert code == 1
    assert text.count("import.bad_record") == 6
    assert "6 records read: 0 accepted, 6 rejected" in text


def test_layout_option_is_used_for_import(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "intermt_pair.json"
    code, text = run(
        "convert",
        str(data),
        "--from",
        "intermt-bench",
        "--layout",
        "flat",
        "--to",
        "jsonl",
        "-o",
        str(tmp_path / "t.jsonl"),
    )
    assert code == 1 and "import.bad_record" in text  # pair records are not flat records
    code, text = run(
        "convert",
        str(data),
        "--from",
        "intermt-bench",
        "--layout",
        "pair",
        "--to",
        "jsonl",
        "-o",
        str(tmp_path / "t.jsonl"),
    )
    assert code == 0 and "2 records read: 2 accepted" in text


def _run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns the exit code and stderr."""
    import os
    import pty

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "intermt_schema.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=child_fd,
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


def test_progress_shows_on_a_terminal_only_and_not_with_quiet(tmp_path: Path) -> None:
    data = str(EXAMPLES / "trees.jsonl")
    code, stderr = _run_on_a_terminal(["validate", data])
    assert code == 0 and "records" in stderr and "rec" in stderr
    code, stderr = _run_on_a_terminal(["validate", data, "--quiet"])
    assert code == 0 and stderr == ""
    command = ["convert", data, "--to", "trl", "-o", str(tmp_path / "x.jsonl")]
    piped = subprocess.run(
        [sys.executable, "-m", "intermt_schema.cli", *command],
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and piped.stderr == ""


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["convert", "--to", "trl", "-o", "{out}/x.jsonl"],
        ["stats"],
        ["pairs", "--to", "pairs", "-o", "{out}/p.jsonl"],
        ["split", "-o", "{out}/splits"],
        ["show", "-o", "{out}/s.html"],
        ["export-all", "-o", "{out}/all"],
    ],
)
def test_every_reading_command_accounts_for_records_and_keeps_rejects(
    command: list[str], tmp_path: Path
) -> None:
    bad = '{"id": "broken"'
    source = tmp_path / "in.jsonl"
    source.write_text(bad + "\n" + (EXAMPLES / "trees.jsonl").read_text())
    rejects = tmp_path / "rejects.jsonl"
    args = [command[0], str(source), *(a.format(out=tmp_path) for a in command[1:])]
    out = io.StringIO()
    assert main([*args, "--rejects", str(rejects)], out=out) == 1
    assert "7 records read: 6 accepted, 1 rejected" in out.getvalue()
    (kept,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert kept["record"] == bad and kept["line"] == 1 and kept["errors"]


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "--to", "trl", "-o", "x.jsonl"],
        ["convert", "--from", "llava", "--to", "jsonl", "-o", "x.jsonl"],
        ["stats"],
    ],
)
def test_a_url_whose_backend_is_missing_is_a_file_issue(command: list[str], tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    import importlib.util

    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed, so s3:// URLs have a backend here")
    out = io.StringIO()
    args = [command[0], "s3://bucket/contrib.jsonl", *command[1:]]
    args = [str(tmp_path / a) if a == "x.jsonl" else a for a in args]
    assert main(args, out=out) == 1
    assert "0 records read: 0 accepted, 0 rejected (1 errors" in out.getvalue()
    if command[0] == "convert":  # stats counts issues without listing them
        assert "file.unreadable" in out.getvalue() and "s3fs" in out.getvalue()


def test_export_all_plans_every_format_in_every_mode() -> None:
    from intermt_schema.cli.export_all import EXPORT_PLAN

    planned = {(name, options.get("mode")) for name, options, _ in EXPORT_PLAN}
    for fmt in im.available_formats():
        if fmt.writer is None and fmt.records is None:
            continue  # read only (a LLaMA-Factory folder)
        modes = fmt.export_options.get("mode") or (None,)
        for mode in modes:  # type: ignore[union-attr]
            assert (fmt.name, mode) in planned, (fmt.name, mode)
