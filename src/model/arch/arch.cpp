#include "model/arch/arch.hpp"

namespace minima {
namespace {
// llama covers Llama 2/3.x, TinyLlama, SmolLM2 and Mistral-style models (same graph).
constexpr ArchSpec kArchs[] = {
    {"llama", RopeStyle::Norm, false, false, 10000.0f},
    {"qwen2", RopeStyle::Neox, true, false, 10000.0f},
    {"qwen3", RopeStyle::Neox, false, true, 10000.0f},
};
}  // namespace

const ArchSpec* find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

std::string supported_arch_names() {
  std::string s;
  for (const auto& a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

}  // namespace minima
