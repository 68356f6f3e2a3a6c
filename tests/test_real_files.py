"""Every real file under ``../shared/fixtures``: detected without ``--from``, every
record accepted (or, for the files broken on purpose, refused with a clear reason),
validated, and exported back to its own format equal, record by record.

The table names the export mode each file's layout needs (the files are of several
kinds of one format); a new fixture with no row fails the completeness test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import intermt_schema as im
from intermt_schema.io._json_records import read_json_records

from .conftest import fixture_path

EXPORTS: dict[str, tuple[str, dict[str, Any]]] = {
    "intermt_bench/crucial_step_sample.json": ("intermt-bench", {}),
    "llamafactory/alpaca_en_demo_sample.json": ("alpaca", {}),
    "llamafactory/dpo_en_demo_sample.json": ("sharegpt", {"mode": "ranking", "style": "from"}),
    "llamafactory/glaive_toolcall_en_demo_sample.json": ("sharegpt", {"style": "from"}),
    "llamafactory/kto_en_demo_sample.json": ("sharegpt", {}),
    "llamafactory/mllm_audio_demo.json": ("sharegpt", {}),
    "llamafactory/mllm_demo.json": ("sharegpt", {}),
    "llamafactory/mllm_video_demo.json": ("sharegpt", {}),
    "llamafactory/reason_tool_use_demo_sample.jsonl": ("llamafactory-v1", {}),
    "llamafactory/v1_dpo_demo_sample.jsonl": ("llamafactory-v1", {"mode": "dpo"}),
    "llamafactory/v1_multimodal_demo_sample.jsonl": ("llamafactory-v1", {}),
    "llamafactory/v1_sft_demo_sample.jsonl": ("llamafactory-v1", {}),
    "llava/llava_next_readme_examples.json": ("llava", {}),
    "llava/mantis_training_example.json": ("llava", {}),
    "oasst/oasst_en_trees_sample.jsonl": ("oasst", {}),
    "trl/conv_lm.jsonl": ("sharegpt", {}),  # TRL's language modeling rows are ShareGPT's
    "trl/conv_preference.jsonl": ("trl", {"mode": "preference"}),
    "trl/conv_preference_implicit.jsonl": ("trl", {"mode": "preference-implicit"}),
    "trl/conv_prompt_completion.jsonl": ("trl", {"mode": "prompt-completion"}),
    "trl/conv_prompt_only.jsonl": ("trl", {"mode": "prompt-only"}),
    "trl/conv_unpaired.jsonl": ("trl", {"mode": "prompt-completion"}),  # label: a rating
    "trl/std_preference.jsonl": ("trl", {"mode": "preference", "style": "standard"}),
}

BROKEN_ON_PURPOSE = {  # the image path leaves the file's folder in the source repo
    "align_anything/janus_preference_ti2t.json": ("align-anything", "escapes the dataset root"),
    "align_anything/janus_supervised_ti2t.json": ("align-anything", "escapes the dataset root"),
}


def test_every_fixture_has_a_row() -> None:
    root = fixture_path()  # fails in CI, skips elsewhere, when the fixtures are absent
    found = {str(p.relative_to(root)) for p in root.rglob("*.json*")}
    assert found == set(EXPORTS) | set(BROKEN_ON_PURPOSE)


def _canonical(path: Path) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for _, r, _, _ in read_json_records(str(path)))


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_real_file_is_detected_accepted_and_comes_back_equal(name: str, tmp_path: Path) -> None:
    fmt, options = EXPORTS[name]
    source = fixture_path(*name.split("/"))
    assert im.detect_format(str(source)) == fmt
    result = im.get_format(fmt).load(str(source))
    assert result.records == len(_canonical(source)) and not result.rejected
    assert not result.dropped and not [i for i in result.issues if i.severity == "error"]
    for tree in result.trees:
        assert im.validate(tree).ok
        assert im.decode_tree(im.encode_tree(tree)) == tree
    out = tmp_path / f"back{im.get_format(fmt).suffix}"
    im.get_format(fmt).export(result.trees, str(out), **options)
    assert _canonical(out) == _canonical(source)


@pytest.mark.parametrize("name", sorted(BROKEN_ON_PURPOSE))
def test_broken_real_file_is_refused_with_its_reason(name: str) -> None:
    fmt, reason = BROKEN_ON_PURPOSE[name]
    source = fixture_path(*name.split("/"))
    assert im.detect_format(str(source)) == fmt
    result = im.get_format(fmt).load(str(source))
    assert not result.trees and len(result.rejected) == result.records > 0
    assert all(reason in i.message for i in result.issues if i.severity == "error")
