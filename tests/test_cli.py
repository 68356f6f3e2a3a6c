from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    (tmp_path / "images").symlink_to(EXAMPLES / "images")
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
