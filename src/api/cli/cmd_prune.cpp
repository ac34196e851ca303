// minima prune: a smaller model of the same architecture that keeps the units a calibration text
// shows to matter most (model/prune.hpp). The size is a target parameter count or a ratio of the
// teacher's; one keep-fraction f is applied to every chosen axis (layers, KV groups, FFN channels,
// embedding channels; counts rounded to --align so the student stays quantizable) and f is the
// largest whose model fits the target.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/prune.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/shard.hpp"

namespace minima::cli {
namespace {

struct Axes {
  bool depth = false, heads = false, ffn = false, embd = false;
};

Axes parse_axes(const std::string& s) {
  Axes a;
  size_t p = 0;
  while (p <= s.size()) {
    const size_t q = std::min(s.find(',', p), s.size());
    const std::string x = s.substr(p, q - p);
    if (x == "depth")
      a.depth = true;
    else if (x == "heads")
      a.heads = true;
    else if (x == "ffn")
      a.ffn = true;
    else if (x == "embd")
      a.embd = true;
    else if (x == "width")
      a.heads = a.ffn = a.embd = true;
    else
      fail("minima prune: --axes: unknown axis '", x, "' (depth, width, heads, ffn, embd)");
    p = q + 1;
  }
  return a;
}

// The kept count nearest f·full among the multiples of align and full itself (which need not be
// a multiple: stories260K's n_ff is 172).
int64_t scaled(int64_t full, double f, int64_t align, bool on) {
  if (!on || full <= align) return full;
  const double want = f * double(full);
  if (want >= double(full) - 0.5 * double(align)) return full;
  const int64_t k = int64_t(std::llround(want / double(align))) * align;
  return std::clamp<int64_t>(k, align, full);
}

}  // namespace

int cmd_prune(int argc, char** argv, int first) {
  ArgParser p("prune",
              "Prune a model to a smaller one by activation importance on calibration text.");
  p.opt("--model", "-m", "FILE", "teacher GGUF")
      .opt("--calib", "", "FILE", "calibration text")
      .opt("--calib-shard", "", "FILE",
           "or: a token shard (minima data prepare's train.tok), its first --calib-tokens")
      .opt("--calib-tokens", "", "N", "tokens of --calib-shard to use (default 65536)")
      .opt("--target-params", "", "N", "parameters the student may have")
      .opt("--ratio", "", "R", "or: the share of the teacher's parameters to keep (0 < R <= 1)")
      .opt("--axes", "", "LIST",
           "what to cut: depth, width (= heads,ffn,embd), heads, ffn, embd "
           "(default width)")
      .opt("--align", "", "N", "kept FFN and embedding channels are multiples of N (default 32)")
      .opt("--ctx", "-c", "N",
           "calibration window length (default 256, at most the training context)")
      .opt("--type", "", "T", "student weight type: F32 (default) or F16")
      .opt("--out", "-o", "FILE", "student GGUF");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  const std::string path = p.required("--model"), out = p.required("--out");
  if (p.has("--calib") == p.has("--calib-shard"))
    fail("minima prune: give one of --calib (text) and --calib-shard (tokens)");
  const std::string calib = p.has("--calib") ? *p.get("--calib") : *p.get("--calib-shard");
  if (p.has("--target-params") == p.has("--ratio"))
    fail("minima prune: give one of --target-params and --ratio");
  const Axes axes = parse_axes(p.get("--axes").value_or("width"));
  const int64_t align = p.get_int("--align", 32, 1, 4096);
  const std::string type_name = p.get("--type").value_or("F32");
  const auto type = parse_dtype(type_name);
  if (!type || (*type != DType::F32 && *type != DType::F16))
    fail("minima prune: --type must be F32 or F16");

  Compute c = make_compute(p);
  const Model model = Model::load(path, file_load(p));
  const HParams& hp = model.hparams();
  const PruneCounts full{hp.n_layer, hp.n_head_kv, hp.n_ff, hp.n_embd};
  const int64_t teacher_params = pruned_param_count(model, full);
  int64_t target = 0;
  if (p.has("--ratio")) {
    const double r = p.get_float("--ratio", 1.0);
    if (!(r > 0 && r <= 1)) fail("minima prune: --ratio must be in (0, 1], not ", r);
    target = int64_t(std::llround(r * double(teacher_params)));
  } else {
    target = p.get_int("--target-params", 0, 1, INT64_MAX);
  }
  auto counts = [&](double f) {
    return PruneCounts{
        axes.depth ? std::clamp<int64_t>(std::llround(f * double(hp.n_layer)), 1, hp.n_layer)
                   : hp.n_layer,
        axes.heads ? std::clamp<int64_t>(std::llround(f * double(hp.n_head_kv)), 1, hp.n_head_kv)
                   : hp.n_head_kv,
        scaled(hp.n_ff, f, align, axes.ffn), scaled(hp.n_embd, f, align, axes.embd)};
  };
  if (pruned_param_count(model, counts(0.0)) > target)
    fail("minima prune: the smallest model these axes allow has ",
         pruned_param_count(model, counts(0.0)), " parameters, more than the target ", target,
         " (add axes, e.g. --axes depth,width, or lower --align)");
  double lo = 0.0, hi = 1.0;  // params(counts(lo)) <= target
  if (pruned_param_count(model, counts(1.0)) <= target) lo = 1.0;
  for (int it = 0; it < 60 && lo < 1.0; ++it) {
    const double mid = 0.5 * (lo + hi);
    (pruned_param_count(model, counts(mid)) <= target ? lo : hi) = mid;
  }
  const PruneCounts k = counts(lo);

  // Importance from the calibration text.
  std::vector<int32_t> ids;
  if (p.has("--calib")) {
    ids = Tokenizer::from_gguf(model.file()).encode(read_file(calib), true, false);
  } else {
    // A training shard keeps the calibration apart from the evaluation split by construction;
    // its documents are in shuffled order, so a prefix samples every source.
    const auto shard = train::TokenShard::open(calib);
    if (int64_t(shard.n_vocab()) != hp.n_vocab)
      fail("minima prune: ", calib, " was tokenized for ", shard.n_vocab(), " tokens, ", path,
           " has ", hp.n_vocab);
    const int64_t want = p.get_int("--calib-tokens", 65536, 2, INT64_MAX);
    ids.resize(size_t(std::min<int64_t>(want, int64_t(shard.size()))));
    shard.read(0, ids);
  }
  const int64_t ctx = p.get_int("--ctx", std::min<int64_t>(256, hp.n_ctx_train), 2, hp.n_ctx_train);
  const int64_t windows = int64_t(ids.size()) / ctx;
  if (windows < 1)
    fail("minima prune: ", calib, " is ", ids.size(), " tokens, fewer than one window of ", ctx);
  const PruneImportance imp = measure_importance(model, ids, ctx, *c.kernels, *c.pool);
  const PrunePlan plan = plan_pruning(model, imp, k);
  write_pruned(model, plan, *type, out);
  const int64_t student = pruned_param_count(model, k);
  std::printf(
      "wrote %s: %lld -> %lld parameters (%.1f%%; target %lld): layers %lld/%lld, KV groups "
      "%lld/%lld, FFN %lld/%lld, embedding %lld/%lld; importance from %lld windows of %lld "
      "tokens\n",
      out.c_str(), (long long)teacher_params, (long long)student,
      100.0 * double(student) / double(teacher_params), (long long)target, (long long)k.n_layer,
      (long long)hp.n_layer, (long long)k.n_head_kv, (long long)hp.n_head_kv, (long long)k.n_ff,
      (long long)hp.n_ff, (long long)k.n_embd, (long long)hp.n_embd, (long long)windows,
      (long long)ctx);
  return 0;
}

}  // namespace minima::cli
