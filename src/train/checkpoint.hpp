// Training checkpoints: parameters, AdamW moments and the step count, written atomically (PATH.tmp,
// then rename) and checked on load (magic, version, sizes, the recipe's trajectory fingerprint and
// a checksum over the whole file), so a resumed run continues bit for bit where the interrupted one
// stood, and a torn, truncated or foreign file is refused with a message instead of being used.
//
// File layout (little-endian): "MNCKPT01", u32 version (1), u32 0, u64 trajectory hash,
// i64 step, u64 n_params, then f32 params[n], m[n], v[n], then u64 FNV-1a of all bytes before it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "train/step.hpp"

namespace minima::train {

// DIR/step-NNNNNNNN.ckpt; keeps the newest `keep` checkpoints of DIR and removes older ones.
std::filesystem::path save_checkpoint(const std::filesystem::path& dir, const TrainState& s,
                                      uint64_t trajectory_hash, int keep = 2);

TrainState load_checkpoint(const std::filesystem::path& file, uint64_t trajectory_hash,
                           size_t n_params);

// The checkpoint of DIR with the highest step, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir);

}  // namespace minima::train
