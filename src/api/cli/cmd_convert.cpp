// minima convert HF_DIR OUT.gguf: a Hugging Face checkpoint (Llama, Qwen2, Qwen3) as GGUF
// (runtime/convert/hf_model.hpp).
#include <chrono>
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "runtime/convert/hf_model.hpp"

namespace minima::cli {

int cmd_convert(int argc, char** argv, int first) {
  ArgParser p("convert HF_DIR OUT.gguf",
              "Convert a Hugging Face checkpoint (config.json, safetensors, tokenizer) to GGUF.");
  p.opt("--type", "", "T", "weight type: F16 (default), BF16, F32 or Q8_0");
  add_compute_options(p);
  std::vector<std::string> pos;
  while (first < argc && argv[first][0] != '-' && pos.size() < 2) pos.emplace_back(argv[first++]);
  if (!p.parse(argc, argv, first)) return 0;
  if (pos.size() != 2) fail("minima convert: usage: minima convert HF_DIR OUT.gguf [--type T]");
  ConvertOptions opt;
  const std::string type = p.get("--type").value_or("F16");
  const auto t = parse_dtype(type);
  if (!t) fail("minima convert: unknown type '", type, "' (F16, BF16, F32 or Q8_0)");
  opt.type = *t;
  Compute c = make_compute(p);
  const auto t0 = std::chrono::steady_clock::now();
  const ConvertReport r = convert_hf(pos[0], pos[1], opt, *c.pool);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %s, %lld tensors, %.1fM parameters, tokenizer %s, %s, in %.1f s\n",
              pos[1].c_str(), r.arch.c_str(), (long long)r.n_tensors, double(r.n_params) / 1e6,
              r.tokenizer.c_str(), type.c_str(), s);
  return 0;
}

}  // namespace minima::cli
