"""Every script under examples/ runs, and does what it says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem != "make_examples")


def run(script: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{script}.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_script_is_tested() -> None:
    assert set(SCRIPTS) == set(CHECKS)


def _validate(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1  # the sample contribution has a broken tree
    assert "7 records read: 6 accepted, 1 rejected" in result.stdout
    assert "error rating.out_of_scale at /ratings/0/score" in result.stdout
    rejected = [json.loads(x) for x in (out / "rejects.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rejected] == ["contrib-1"]


def _train(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 records break a trainer's rules" in result.stdout
    assert json.loads((out / "llamafactory" / "dataset_info.json").read_text())
    copied = list((out / "llava" / "images").glob("*.png"))
    assert copied


def _pairs(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    rows = (out / "pairs_trl.jsonl").read_text().splitlines()
    assert f"trl (preference): {len(rows)} records written" in result.stdout


def _split(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    counts = [
        len((out / f"{n}.jsonl").read_text().splitlines()) for n in ("train", "validation", "test")
    ]
    assert sum(counts) == 6 and "images in more than one part: 0" in result.stdout


def _show(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "index.html").is_file()
    assert len(list((out / "index_trees").glob("*.html"))) == 6


def _scale(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "same rows as the one-process exporter: True" in result.stdout


def _tutorial(out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 breaking LLaMA-Factory's rules" in result.stdout
    assert (out / "lf" / "intermt_rank.json").is_file()


CHECKS = {
    "validate_contribution": _validate,
    "convert_for_training": _train,
    "sample_pairs": _pairs,
    "split": _split,
    "show": _show,
    "scale_out": _scale,
    "tutorial": _tutorial,
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script(script: str, tmp_path: Path) -> None:
    out = tmp_path / script
    CHECKS[script](out, run(script, out))
