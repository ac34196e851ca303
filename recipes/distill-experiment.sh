#!/usr/bin/env bash
# The pruning + distillation experiment of docs/distillation.md, end to end, from the repository
# root:  bash recipes/distill-experiment.sh
# 1. a teacher bigger than the default model, trained by recipes/distill-teacher.toml on
#    minima-mini's data (about 2 h 45 min on 2 Zen 5 cores; it resumes from its last checkpoint);
# 2. pruned to ~20 % of its parameters (depth and width) by activation importance on the first
#    64K tokens of the training split;
# 3. distilled for 600 steps of 16 x 256 tokens;
# 4. the same student shape trained from scratch with the same tokens and schedule (the baseline);
# 5. one comparison table on the held-out evaluation split, and decode speed in F16.
# Every step whose output exists is skipped, so an interrupted run continues (the teacher's
# training resumes from its last checkpoint). Outputs go to data/distill-teacher/ (DIR=... to
# run the later steps elsewhere with a teacher.gguf placed there, e.g. a smoke test with
# minima-mini as the teacher and STEPS=4 for the distillation and the baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MINIMA:-build/release/bin/minima}
M=data/minima-mini
D=${DIR:-data/distill-teacher}
STEPS=${STEPS:-600}
[ -x "$B" ] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 --target minima; }
mkdir -p "$D"

# Data: minima-mini's corpus and shards, tokenized with the shipped model's vocabulary.
if [ ! -f "$M/shards/meta.json" ]; then
  bash recipes/setup-data.sh
  /usr/bin/python3 recipes/minima-mini-data.py --out "$M/corpus" --seed 1
  "$B" data prepare --tokenizer models/minima-mini.gguf --input "$M"/corpus/*.jsonl \
    --out "$M/shards" --eval-fraction 0.01 --seed 1
fi

# 1. Teacher.
if [ ! -f "$D/teacher.gguf" ]; then
  resume=()
  compgen -G "$D/ckpt/*" >/dev/null && resume=(--resume)
  "$B" train --config recipes/distill-teacher.toml "${resume[@]}"
fi

# 2. Student: one keep-fraction over layers, KV groups, FFN and embedding channels.
[ -f "$D/student.gguf" ] ||
  "$B" prune --model "$D/teacher.gguf" --calib-shard "$M/shards/train.tok" --calib-tokens 65536 \
    --ratio 0.2 --axes depth,width --align 16 --ctx 256 --out "$D/student.gguf"

# 3. Distillation (forward KL, temperature 1, top-64 teacher tokens, no hard labels).
if [ ! -f "$D/distilled.gguf" ]; then
  resume=()
  compgen -G "$D/kd-ckpt/*" >/dev/null && resume=(--resume)
  "$B" distill --teacher "$D/teacher.gguf" --student "$D/student.gguf" --data "$M/shards/train.tok" \
    --out "$D/distilled.gguf" --steps "$STEPS" --batch 16 --ctx 256 --lr 2e-3 --min-lr 2e-4 \
    --warmup $((STEPS < 50 ? STEPS / 2 : 50)) --checkpoint-dir "$D/kd-ckpt" --checkpoint-every 100 --no-progress "${resume[@]}"
fi

# 4. Baseline: the student's shape, from scratch, same data, tokens and schedule.
info() { "$B" info "$D/student.gguf" | sed -n "s/^$1: *//p"; }
if [ ! -f "$D/scratch.gguf" ]; then
  heads=$(info heads)  # "4 (kv 2, head size 32)"
  cat >"$D/scratch.toml" <<EOF
# Written by recipes/distill-experiment.sh: the pruned student's shape, trained from scratch.
[model]
n_embd = $(info embedding)
n_layer = $(info layers)
n_head = ${heads%% *}
n_head_kv = $(sed 's/.*kv \([0-9]*\),.*/\1/' <<<"$heads")
head_dim = $(sed 's/.*head size \([0-9]*\).*/\1/' <<<"$heads")
n_ff = $(info feed-forward)
n_ctx = 256
rope_base = 10000.0
tied_output = true

[data]
tokenizer = "models/minima-mini.gguf"
train = "$M/shards/train.tok"
eval = "$M/shards/eval.tok"

[train]
seed = 1
steps = $STEPS
batch = 16
lr = 2e-3
min_lr = 2e-4
warmup = $((STEPS < 50 ? STEPS / 2 : 50))
weight_decay = 0.1
precision = "auto"
eval_every = 0
checkpoint_every = 0
checkpoint_dir = "$D/scratch-ckpt"
log_every = 100
threads = 2

[export]
out = "$D/scratch.gguf"
type = "F32"
name = "scratch"
EOF
  "$B" train --config "$D/scratch.toml"
fi

# 5. The table, then decode speed with every model in F16 (teacher and student alternating).
"$B" compare --models "$D/teacher.gguf" "$D/distilled.gguf" "$D/scratch.gguf" "$D/student.gguf" \
  --shard "$M/shards/eval.tok" --ctx 256 --speed-prompt 128 --speed-gen 64 | tee "$D/compare.md"
[ -f "$D/distilled-F16.gguf" ] ||
  "$B" quantize "$D/distilled.gguf" "$D/distilled-F16.gguf" F16 --quiet
for round in 1 2; do
  for m in teacher distilled-F16; do
    "$B" bench --model "$D/$m.gguf" -p 128 -n 64 -t 2 -r 5 --no-peak | grep '^|' | tail -n 2
  done
done | tee "$D/speed.md"
