// A training recipe: `minima train --config recipe.toml`. Sections and keys (defaults in brackets):
//
//   [model]  n_embd, n_layer, n_head, n_head_kv [n_head], n_ff, n_ctx, rope_base [10000],
//            rms_eps [1e-5], tied_output [true], head_dim [n_embd / n_head]
//                                                        (n_vocab comes from the tokenizer)
//   [data]   tokenizer, train, eval                      (paths: GGUF tokenizer, token shards)
//   [train]  seed [1], steps, batch, accum [1], lr, min_lr [lr/10], warmup [0], weight_decay [0.1],
//            beta1 [0.9], beta2 [0.95], eps [1e-8], grad_clip [1.0], precision ["auto"|"f32"|"bf16"],
//            threads [all cores], eval_every [0: never], eval_batches [4], checkpoint_every [0],
//            checkpoint_dir [""], log_every [10]
//   [export] out, type ["F16"|"F32"|"Q8_0"], name ["minima"]
//
// Unknown sections or keys, wrong value types and out-of-range values are errors naming the key
// and the file, so a typo never silently trains something else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "train/optimizer.hpp"
#include "train/params.hpp"

namespace minima::train {

struct Recipe {
  std::filesystem::path source;  // the recipe file
  ModelConfig model;             // n_vocab filled from the tokenizer by the trainer
  std::filesystem::path tokenizer, train_data, eval_data;
  AdamWConfig opt;
  uint64_t seed = 1;
  int64_t batch = 0, accum = 1;
  std::string precision = "auto";
  int threads = 0;  // 0: default_thread_count()
  int64_t eval_every = 0, eval_batches = 4, checkpoint_every = 0, log_every = 10;
  std::filesystem::path checkpoint_dir;
  std::filesystem::path out;
  std::string out_type = "F16";
  std::string name = "minima";

  // A fingerprint of everything that determines the training trajectory (model shape, data
  // paths, optimizer, seed, batch): a checkpoint only resumes under the same one.
  uint64_t trajectory_hash() const;
};

Recipe load_recipe(const std::filesystem::path& path);

}  // namespace minima::train
