#!/usr/bin/env bash
# The trainer smoke test: what the SDK writes from examples/ trains for 2 steps on CPU,
# in LLaMA-Factory (sft and dpo, qwen2_vl template) and in TRL (SFT on Qwen2-VL, DPO on
# LLaVA; the release LLaMA-Factory pins and the current one), on tiny models built here.
#
#   bash tests/trainers/run.sh [WORK_DIR]
#
# Needs `intermt` on PATH (the project's environment). The trainers live in their own
# virtual environments under $INTERMT_TRAINER_ENVS (default .trainers/), made from the
# requirements files beside this script and reused while those files are unchanged.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
envs=${INTERMT_TRAINER_ENVS:-$root/.trainers}
work=${1:-$(mktemp -d)}
examples=$root/examples/data
fixtures=$root/../shared/fixtures  # real files of other tools (required: CI has them)
data=$work/data
mkdir -p "$envs" "$work"

environment() {  # NAME REQUIREMENTS
  local env=$envs/$1
  if [ ! -x "$env/bin/python" ] || ! cmp -s "$2" "$env/requirements.txt"; then
    echo "installing $1 (once; cached in $env)"
    rm -rf "$env"
    python3 -m venv "$env"
    "$env/bin/pip" install --quiet --upgrade pip
    "$env/bin/pip" install --quiet -r "$2"
    cp "$2" "$env/requirements.txt"
  fi
}
environment llamafactory "$here/requirements-llamafactory.txt"
environment trl "$here/requirements-trl.txt"

echo "exporting from $examples (log: $work/export.log)"
rm -rf "$data"
{
  "$envs/llamafactory/bin/python" "$here/media.py" "$data/video-source"  # clips drawn here
  intermt validate "$data/video-source" --check-images --strict
  intermt convert "$data/video-source" --to sharegpt --images copy -o "$data/lf-video/video.json"
  intermt convert "$examples" --to sharegpt --images copy -o "$data/lf/sft.json"
  intermt convert "$examples" --to alpaca --images copy -o "$data/lf/alpaca.json"
  intermt pairs "$examples" --to sharegpt --images copy -o "$data/lf/pairs.json"
  intermt export-all "$examples" -o "$data/all"
  intermt convert "$examples" --to trl --mode preference --images copy \
    -o "$data/trl/preference.jsonl"
  python "$here/mixed.py" "$examples" "$data/mixed-source"
  intermt convert "$data/mixed-source" --to trl --images copy -o "$data/mixed/sft.jsonl"
  python "$root/examples/convert_for_training.py" "$data/script"
  python "$root/examples/tutorial.py" "$data/tutorial"
  intermt convert "$fixtures/llamafactory/glaive_toolcall_en_demo_sample.json" \
    --to sharegpt --style from -o "$data/lf-tools/glaive.json"  # tool calls, round trip
  intermt convert "$fixtures/llamafactory/glaive_toolcall_en_demo_sample.json" \
    --to trl -o "$data/trl-tools/glaive.jsonl"  # as TRL's tool calling rows
  intermt convert "$fixtures/llamafactory/kto_en_demo_sample.json" \
    --to sharegpt -o "$data/lf-kto/kto.json"  # KTO labels, as ratings and back (kto_tag)
} > "$work/export.log" 2>&1

models=$work/models
"$envs/llamafactory/bin/python" "$here/tiny.py" --out "$models" \
  "$data"/lf/*.json "$data"/lf-tools/*.json "$data"/lf-kto/*.json "$data"/lf-video/*.json \
  "$data"/trl/*.jsonl \
  "$data"/trl-tools/*.jsonl \
  "$data"/mixed/*.jsonl \
  > "$work/models.log" 2>&1

results=$work/results.jsonl
: > "$results"
failed=0
runs=0
train() {  # ENV RUN DATA MODEL
  runs=$((runs + 1))
  local log=$work/logs/$runs-$1-$2.log
  mkdir -p "$work/logs" "$work/out"
  if (cd "$work" && "$envs/$1/bin/python" "$here/train.py" "$2" "$3" "$models/$4" \
      "$work/out/$runs" > "$log" 2>&1); then
    echo "{\"env\": \"$1\", \"data\": \"${3#"$data/"}\", $(tail -n 1 "$log" | cut -c2-)" >> "$results"
  else
    echo "FAILED: $1 $2 $3 (log: $log)"; tail -n 20 "$log"; failed=1
  fi
}
# LLaMA-Factory: convert, pairs, export-all, the example script and the tutorial
train llamafactory lf-sft "$data/lf:sft" qwen2_vl
train llamafactory lf-sft "$data/lf:alpaca" qwen2_vl
train llamafactory lf-dpo "$data/lf:pairs" qwen2_vl
train llamafactory lf-dpo "$data/all/llamafactory:intermt_ranking" qwen2_vl
train llamafactory lf-sft "$data/script/llamafactory:intermt_sft" qwen2_vl
train llamafactory lf-dpo "$data/tutorial/lf:intermt_rank" qwen2_vl
# tool use (function_call/observation turns, a tools column) read from LLaMA-Factory's
# own demo and written back
train llamafactory lf-sft "$data/lf-tools:glaive" qwen2_vl
# video parts written as <video> placeholders and a videos column (the clips are decoded)
train llamafactory lf-sft "$data/lf-video:video" qwen2_vl
# unpaired labels read from LLaMA-Factory's KTO demo, kept as ratings, written back
train llamafactory lf-kto "$data/lf-kto:kto" qwen2
# TRL as LLaMA-Factory pins it, and the current release (SFTTrainer on Qwen2-VL,
# DPOTrainer on LLaVA); the mixed dataset has trees with and without images
train llamafactory trl-sft-mixed "$data/mixed/sft.jsonl" qwen2_vl
train trl trl-sft "$data/all/trl/sft.jsonl" qwen2_vl
train trl trl-sft-mixed "$data/mixed/sft.jsonl" qwen2_vl
# tool calling rows (tool_calls, tool messages, a tools column), rendered by the template
train trl trl-sft-tools "$data/trl-tools/glaive.jsonl" qwen2_vl
train trl trl-dpo "$data/trl/preference.jsonl" llava
train trl trl-dpo "$data/script/trl/preference.jsonl" llava

echo "environment   run            data                               final loss  seconds"
python - "$results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"{r['env']:<13} {r['run']:<14} {r['data']:<34} {r['loss']:>10.4f} {r['seconds']:>8}")
PY
exit $failed
