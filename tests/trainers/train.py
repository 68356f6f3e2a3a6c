"""Two training steps on CPU on a dataset the SDK wrote; run inside a trainer environment.

    python train.py RUN DATA MODEL OUT

``RUN`` is ``lf-sft``, ``lf-dpo`` or ``lf-kto`` (LLaMA-Factory, the ``qwen2_vl`` template, or
``qwen`` for the text model ``qwen2``; ``DATA``
is a ``dataset_dir`` and the dataset's name, as ``DIR:NAME``), or ``trl-sft`` or
``trl-dpo`` (TRL's SFTTrainer or DPOTrainer; ``DATA`` is a JSON Lines file, its images
loaded as the SDK's docs say). The last line printed is the result as JSON: the steps
reached, the final loss and the wall time. The run fails unless it reached step 2 with
a finite loss.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any


def llamafactory(stage: str, data: str, model: str, out: str) -> list[dict[str, Any]]:
    from llamafactory.train.tuner import run_exp

    folder, name = data.rsplit(":", 1)
    args: dict[str, Any] = {
        "stage": stage,
        "do_train": True,
        "model_name_or_path": model,
        "template": "qwen" if os.path.basename(model) == "qwen2" else "qwen2_vl",
        "dataset": name,
        "dataset_dir": folder,
        "finetuning_type": "full",
        "output_dir": out,
        "overwrite_output_dir": True,
        "max_steps": 2,
        "per_device_train_batch_size": 1,
        "learning_rate": 1e-4,
        "cutoff_len": 8192,
        "image_max_pixels": 56 * 56 * 4,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "preprocessing_num_workers": 1,
        "dataloader_num_workers": 0,
        "plot_loss": False,
    }
    if stage == "dpo":
        args.update(pref_beta=0.1, pref_loss="sigmoid")
    if stage == "kto":
        args.update(pref_beta=0.1)
    run_exp(args)
    with open(os.path.join(out, "trainer_log.jsonl")) as log:
        entries = [json.loads(line) for line in log if line.strip()]
    return [{"step": e["current_steps"], "loss": e["loss"]} for e in entries if "loss" in e]


def load_images(path: str) -> Any:
    """A TRL dataset the SDK wrote, with its ``images`` paths (relative to the file)
    turned into ``datasets.Image`` values, as ``docs/formats.md`` shows."""
    from datasets import Image, List, load_dataset

    rows = load_dataset("json", data_files=path, split="train")
    if "images" in rows.column_names:
        folder = os.path.dirname(os.path.abspath(path))
        rows = rows.map(lambda row: {"images": [os.path.join(folder, p) for p in row["images"]]})
        rows = rows.cast_column("images", List(Image()))
    return rows


def trl(kind: str, data: str, model: str, out: str) -> list[dict[str, Any]]:
    import trl as trl_library
    from transformers import AutoModelForImageTextToText, AutoProcessor

    rows = load_images(data)
    if kind == "sft-mixed":  # one row with images and one without, in one batch
        with_images = next(i for i, r in enumerate(rows["images"]) if r)
        without = next(i for i, r in enumerate(rows["images"]) if not r)
        rows = rows.select([with_images, without])
    common: dict[str, Any] = {
        "output_dir": out,
        "max_steps": 2,
        "per_device_train_batch_size": 2 if kind == "sft-mixed" else 1,
        "learning_rate": 1e-4,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": True,
        "bf16": False,
    }
    processor = AutoProcessor.from_pretrained(model)
    network = AutoModelForImageTextToText.from_pretrained(model)
    if kind == "sft-tools":  # the calls are in what the model is trained on
        first = rows[0]
        text = processor.apply_chat_template(first["messages"], tools=first.get("tools"),
                                             tokenize=False)  # fmt: skip
        if "<tool_call>" not in text or not first.get("tools"):
            sys.exit(f"sft-tools: the first row renders no tool call or tools: {text[:300]}")
    if kind == "dpo":
        config: Any = trl_library.DPOConfig(max_length=None, **common)
        trainer: Any = trl_library.DPOTrainer(
            model=network, args=config, train_dataset=rows, processing_class=processor
        )
    else:
        config = trl_library.SFTConfig(max_length=None, **common)
        trainer = trl_library.SFTTrainer(
            model=network, args=config, train_dataset=rows, processing_class=processor
        )
    trainer.train()
    return [
        {"step": entry["step"], "loss": entry["loss"]}
        for entry in trainer.state.log_history
        if "loss" in entry
    ]


def main() -> None:
    run, data, model, out = sys.argv[1:5]
    start = time.perf_counter()
    if run.startswith("lf-"):
        logged = llamafactory(run.removeprefix("lf-"), data, model, out)
    else:
        logged = trl(run.removeprefix("trl-"), data, model, out)
    seconds = time.perf_counter() - start
    last = logged[-1] if logged else {"step": 0, "loss": float("nan")}
    result = {"run": run, "steps": last["step"], "loss": last["loss"], "seconds": round(seconds, 1)}
    print(json.dumps(result))
    if last["step"] != 2 or not math.isfinite(last["loss"]):
        sys.exit(f"{run}: did not reach step 2 with a finite loss: {logged}")


if __name__ == "__main__":
    main()
