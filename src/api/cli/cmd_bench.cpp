// minima bench: prefill (pp) and decode (tg) speed measured like llama-bench (pp: n_prompt random
// tokens from an empty cache in one batch; tg: n_gen single-token steps from an empty cache), with
// the achieved memory bandwidth and arithmetic rate and their share of the machine's measured
// peaks. --json prints llama-bench's `-o json` fields (n_prompt, n_gen, avg_ts, stddev_ts, ...).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "core/kernels/peak.hpp"
#include "core/qgemm.hpp"
#include "model/forward.hpp"

namespace minima::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct TestResult {
  int64_t n_prompt = 0, n_gen = 0;
  std::vector<double> ns;  // per repetition
  double avg_ts = 0, stddev_ts = 0, avg_ns = 0, stddev_ns = 0;
  double gbps = 0, gops = 0;  // achieved, from avg_ts
};

void summarize(TestResult& r) {
  const double n_tok = double(r.n_prompt + r.n_gen);
  std::vector<double> ts;
  for (double ns : r.ns) ts.push_back(n_tok * 1e9 / ns);
  auto mean_sd = [](const std::vector<double>& v, double& mean, double& sd) {
    mean = 0;
    for (double x : v) mean += x;
    mean /= double(v.size());
    sd = 0;
    for (double x : v) sd += (x - mean) * (x - mean);
    sd = v.size() > 1 ? std::sqrt(sd / double(v.size() - 1)) : 0;
  };
  mean_sd(ts, r.avg_ts, r.stddev_ts);
  mean_sd(r.ns, r.avg_ns, r.stddev_ns);
}

// Bytes of weights one forward step streams: every matmul weight, plus one embedding row.
double weight_bytes(const Model& m) {
  double b = 0;
  for (const auto& l : m.layers())
    for (const TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      b += double(t->row_bytes) * double(t->ne1);
  b += double(m.output().row_bytes) * double(m.output().ne1);
  return b;
}

// Multiply-adds of one token through the matmuls (x2 = ops), plus attention over `ctx` positions.
double ops_per_token(const Model& m, double ctx) {
  double macs = 0;
  for (const auto& l : m.layers())
    for (const TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      macs += double(t->ne0) * double(t->ne1);
  macs += double(m.output().ne0) * double(m.output().ne1);
  const HParams& h = m.hparams();
  macs += double(h.n_layer) * double(h.n_head) * ctx * double(h.head_dim + h.head_dim_v);
  return 2 * macs;
}

std::string human_size(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, b >= 1 << 30 ? "%.2f GiB" : "%.2f MiB",
                b >= 1 << 30 ? b / (1 << 30) : b / (1 << 20));
  return buf;
}

}  // namespace

int cmd_bench(int argc, char** argv, int first) {
  ArgParser p("bench",
              "Measure prefill and decode speed of a model (or the machine's peaks with --peak).");
  p.opt("--model", "-m", "FILE", "GGUF model")
      .opt("-p", "--n-prompt", "N", "prompt tokens for the prefill test; 0 = skip (default 512)")
      .opt("-n", "--n-gen", "N", "tokens for the decode test; 0 = skip (default 128)")
      .opt("-r", "--repetitions", "N", "repetitions per test (default 5)")
      .opt("-b", "--batch", "N", "prefill batch size (default 512)")
      .flag("--json", "print results as JSON (llama-bench -o json fields)")
      .flag("--peak",
            "measure and print the machine's peaks (bandwidth, INT8, FP32), no model needed")
      .flag("--no-peak", "skip the peak probe (no roofline shares)");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  Compute c = make_compute(p);
  const bool json = p.get_flag("--json");

  MachinePeaks peaks;
  if (p.get_flag("--peak") || !p.get_flag("--no-peak"))
    peaks = measure_peaks(*c.pool, c.kernels->isa);
  if (!p.has("--model")) {
    if (!p.get_flag("--peak"))
      fail("minima bench: give --model (or --peak for the machine's peaks)");
    if (json) {
      nlohmann::json j = {{"threads", c.pool->size()},       {"isa", isa_name(c.kernels->isa)},
                          {"read_gbps", peaks.read_gbps},    {"int8_gops", peaks.int8_gops},
                          {"int8_kind", peaks.int8_kind},    {"fp32_gflops", peaks.fp32_gflops},
                          {"bf16_gflops", peaks.bf16_gflops}};
      std::printf("%s\n", j.dump(1).c_str());
    } else {
      std::printf(
          "threads %d, kernels %s\nDRAM read:  %8.1f GB/s\nINT8:       %8.1f GOP/s (%s)\nFP32 FMA: "
          "  %8.1f GFLOP/s\n"
          "BF16 dot:   %s\n",
          c.pool->size(), std::string(isa_name(c.kernels->isa)).c_str(), peaks.read_gbps,
          peaks.int8_gops, peaks.int8_kind.c_str(), peaks.fp32_gflops,
          peaks.bf16_gflops > 0 ? (std::to_string(int(peaks.bf16_gflops + 0.5)) + " GFLOP/s (avx512 vdpbf16ps)").c_str()
                                : "not available");
    }
    return 0;
  }

  const std::string path = p.required("--model");
  const int64_t n_prompt = p.get_int("-p", 512, 0, 1 << 20),
                n_gen = p.get_int("-n", 128, 0, 1 << 20);
  const int reps = static_cast<int>(p.get_int("-r", 5, 1, 1000));
  const Model model = Model::load(path, file_load(p));
  SessionOptions so;
  so.n_ctx = std::max<int64_t>(n_prompt + n_gen, 1);
  so.n_batch = p.get_int("-b", 512, 1, 1 << 20);
  Session s(model, *c.kernels, *c.pool, so);

  // Deterministic pseudo-random token ids (like llama-bench, the content does not matter).
  std::vector<int32_t> tokens(static_cast<size_t>(std::max<int64_t>(n_prompt, 1)));
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& t : tokens) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t = static_cast<int32_t>(x % static_cast<uint64_t>(model.hparams().n_vocab));
  }

  std::vector<TestResult> results;
  auto run = [&](int64_t np, int64_t ng) {
    TestResult r;
    r.n_prompt = np;
    r.n_gen = ng;
    for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up (page-in, caches), not recorded
      s.reset();
      const auto t0 = Clock::now();
      if (np > 0) {
        s.eval(std::span(tokens.data(), static_cast<size_t>(np)));
      } else {
        int32_t tok = tokens[0];
        for (int64_t i = 0; i < ng; ++i) {
          s.eval(std::span(&tok, 1), nullptr, true);
          tok = static_cast<int32_t>((tok + 7919) % model.hparams().n_vocab);
        }
      }
      if (rep >= 0)
        r.ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    }
    summarize(r);
    const double n_tok = double(np + ng);
    if (np > 0) {
      r.gops = ops_per_token(model, double(np) / 2) * r.avg_ts / 1e9;
      r.gbps =
          weight_bytes(model) * (r.avg_ts / n_tok) / 1e9;  // one pass over the weights per batch
    } else {
      r.gops = ops_per_token(model, double(ng) / 2) * r.avg_ts / 1e9;
      r.gbps = weight_bytes(model) * r.avg_ts / 1e9;
    }
    results.push_back(r);
  };
  if (n_prompt > 0) run(n_prompt, 0);
  if (n_gen > 0) run(0, n_gen);

  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double peak_rss = double(ru.ru_maxrss) * 1024.0;
  const std::string fname = std::filesystem::path(path).filename().string();
  const double size = double(std::filesystem::file_size(path));

  // Prefill runs the integer GEMM (core/qgemm.hpp) where the kernels have it for the layers'
  // weight type, else the F32 FMA GEMM (core/gemm.hpp): its roofline is that unit's peak.
  const bool int8_prefill =
      !model.layers().empty() && has_qgemm(*c.kernels, model.layers()[0].w_gate.type);
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : results) {
      std::vector<double> samples_ts;
      for (double ns : r.ns) samples_ts.push_back(double(r.n_prompt + r.n_gen) * 1e9 / ns);
      arr.push_back({{"build", "minima"},
                     {"model_filename", path},
                     {"model_type", std::string(model.arch().name)},
                     {"model_size", static_cast<uint64_t>(size)},
                     {"model_n_params", model.n_params()},
                     {"n_batch", so.n_batch},
                     {"n_ubatch", so.n_batch},
                     {"n_threads", c.pool->size()},
                     {"cpu_isa", isa_name(c.kernels->isa)},
                     {"type_k", "f32"},
                     {"type_v", "f32"},
                     {"n_prompt", r.n_prompt},
                     {"n_gen", r.n_gen},
                     {"avg_ns", static_cast<uint64_t>(r.avg_ns)},
                     {"stddev_ns", static_cast<uint64_t>(r.stddev_ns)},
                     {"avg_ts", r.avg_ts},
                     {"stddev_ts", r.stddev_ts},
                     {"samples_ns", r.ns},
                     {"samples_ts", samples_ts},
                     {"achieved_gbps", r.gbps},
                     {"achieved_gops", r.gops},
                     {"peak_read_gbps", peaks.read_gbps},
                     {"peak_int8_gops", peaks.int8_gops},
                     {"prefill_kernel", int8_prefill ? "int8" : "fp32"},
                     {"peak_rss_bytes", static_cast<uint64_t>(peak_rss)}});
    }
    std::printf("%s\n", arr.dump(1).c_str());
    return 0;
  }
  std::printf(
      "| model | size | params | threads | isa | test | t/s | GB/s | GOP/s | %% of peak |\n");
  std::printf("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& r : results) {
    const bool pp = r.n_prompt > 0;
    char share[64] = "-";
    if (peaks.read_gbps > 0) {
      if (pp && int8_prefill && peaks.int8_gops > 0)
        std::snprintf(share, sizeof share, "%.0f%% INT8", 100 * r.gops / peaks.int8_gops);
      if (pp && !int8_prefill && peaks.fp32_gflops > 0)
        std::snprintf(share, sizeof share, "%.0f%% FP32", 100 * r.gops / peaks.fp32_gflops);
      if (!pp) std::snprintf(share, sizeof share, "%.0f%% BW", 100 * r.gbps / peaks.read_gbps);
    }
    std::printf("| %s | %s | %.2f B | %d | %s | %s%lld | %.2f ± %.2f | %.1f | %.1f | %s |\n",
                fname.c_str(), human_size(size).c_str(), double(model.n_params()) / 1e9,
                c.pool->size(), std::string(isa_name(c.kernels->isa)).c_str(), pp ? "pp" : "tg",
                static_cast<long long>(pp ? r.n_prompt : r.n_gen), r.avg_ts, r.stddev_ts, r.gbps,
                r.gops, share);
  }
  std::printf("\npeak RSS %s", human_size(peak_rss).c_str());
  if (peaks.read_gbps > 0)
    std::printf("; machine peaks: DRAM read %.1f GB/s, INT8 %.0f GOP/s, FP32 %.0f GFLOP/s",
                peaks.read_gbps, peaks.int8_gops, peaks.fp32_gflops);
  std::printf("\n");
  return 0;
}

}  // namespace minima::cli
