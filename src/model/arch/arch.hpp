// Architectures as small descriptions: a new family is a new ArchSpec, not a new forward pass.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace minima {

enum class RopeStyle {
  Norm,  // rotate adjacent pairs (x0,x1), (x2,x3) ... (llama)
  Neox,  // rotate (x_i, x_{i+n_rot/2}) (qwen2, qwen3)
};

struct ArchSpec {
  std::string_view name;  // general.architecture
  RopeStyle rope;
  bool qkv_bias;            // blk.N.attn_{q,k,v}.bias present (qwen2)
  bool qk_norm;             // per-head RMSNorm of q and k before RoPE (qwen3)
  float default_rope_base;  // when {arch}.rope.freq_base is absent
};

// nullptr for an unsupported architecture.
const ArchSpec* find_arch(std::string_view name);
// "llama, qwen2, qwen3" for error messages.
std::string supported_arch_names();

}  // namespace minima
