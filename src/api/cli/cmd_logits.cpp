// minima logits: the logits of every prompt position plus a greedy continuation, written in the
// format of the conformance pack's goldens (../shared/conformance/README.md §3):
//   PREFIX.logits.f32  float32 LE [n_tokens, n_vocab]     PREFIX.json  {prompt_tokens,
//   greedy_tokens, ...}
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/forward.hpp"

namespace minima::cli {
namespace {

int32_t argmax(std::span<const float> v) {  // ties go to the lowest id
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

}  // namespace

int cmd_logits(int argc, char** argv, int first) {
  ArgParser p("logits", "Write the logits at every prompt position and a greedy continuation.");
  p.opt("--model", "-m", "FILE", "GGUF model")
      .opt("--tokens", "", "IDS", "prompt token ids, comma-separated (e.g. 1,403,407)")
      .opt("--greedy", "", "N", "greedy continuation length (default 0)")
      .opt("--out", "-o", "PREFIX", "writes PREFIX.logits.f32 and PREFIX.json")
      .opt("--batch", "-b", "N", "tokens per forward chunk (default: the whole prompt)")
      .flag("--incremental", "feed the prompt one token at a time through the KV cache")
      .flag("--exact", "scalar reference matmuls with F32 activations (dequantized weights)");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;

  const std::string out = p.required("--out");
  const std::vector<int32_t> prompt = parse_int_list(p.required("--tokens"), "--tokens");
  const auto n_greedy = p.get_int("--greedy", 0, 0, 1 << 20);
  const bool incremental = p.get_flag("--incremental");
  Compute c = make_compute(p);
  const Model model = Model::load(p.required("--model"), file_load(p));
  const int64_t n = static_cast<int64_t>(prompt.size()), V = model.hparams().n_vocab;

  SessionOptions so;
  so.n_ctx = n + n_greedy + 1;
  so.n_batch = incremental ? 1 : p.get_int("--batch", std::max<int64_t>(n, 1), 1, 1 << 20);
  so.exact = p.get_flag("--exact");
  Session s(model, *c.kernels, *c.pool, so);

  std::vector<float> logits(static_cast<size_t>(n * V));
  if (incremental) {
    for (int64_t i = 0; i < n; ++i)
      s.eval(std::span(&prompt[static_cast<size_t>(i)], 1), &logits[static_cast<size_t>(i * V)],
             true);
  } else {
    s.eval(prompt, logits.data());
  }
  std::vector<int32_t> greedy;
  for (int64_t g = 0; g < n_greedy; ++g) {
    const int32_t tok = argmax(s.last_logits());
    greedy.push_back(tok);
    if (g + 1 < n_greedy) s.eval(std::span(&tok, 1), nullptr, true);
  }

  const std::filesystem::path lpath = out + ".logits.f32", jpath = out + ".json";
  if (lpath.has_parent_path()) std::filesystem::create_directories(lpath.parent_path());
  {
    std::ofstream f(lpath, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!f) fail(lpath.string(), ": write failed");
  }
  nlohmann::json j;
  j["model"] = std::filesystem::path(p.required("--model")).filename().string();
  j["n_vocab"] = V;
  j["prompt_tokens"] = prompt;
  j["greedy_tokens"] = greedy;
  j["logits_file"] = lpath.filename().string();
  j["logits_shape"] = {n, V};
  j["prompt_mode"] = incremental ? "incremental" : "batch";
  j["exact"] = so.exact;
  std::ofstream jf(jpath, std::ios::trunc);
  jf << j.dump(1) << "\n";
  if (!jf) fail(jpath.string(), ": write failed");
  return 0;
}

}  // namespace minima::cli
