// minima quantize IN.gguf OUT.gguf TYPE: recode a model's weights (model/quantize.hpp), with a
// per-tensor policy for the mixed presets, --keep overrides, an optional importance matrix and a
// progress bar on stderr.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/imatrix.hpp"
#include "model/quantize.hpp"

namespace minima::cli {
namespace {

// A compiled PCRE2 pattern that matches when it is found anywhere in the subject (anchor with
// ^…$ for a whole name).
class Pattern {
 public:
  explicit Pattern(const std::string& re) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code_.reset(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(), 0, &err, &off, nullptr));
    if (!code_) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      fail("minima quantize: --keep: bad regular expression '", re, "' at offset ", off, ": ",
           reinterpret_cast<const char*>(msg));
    }
    data_.reset(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  }
  bool operator()(std::string_view s) const {
    return pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0,
                       data_.get(), nullptr) >= 0;
  }

 private:
  struct FreeCode {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };
  struct FreeData {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };
  std::unique_ptr<pcre2_code, FreeCode> code_;
  std::unique_ptr<pcre2_match_data, FreeData> data_;
};

TensorTypeOverride parse_keep(const std::string& arg) {
  const size_t eq = arg.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    fail("minima quantize: --keep expects TENSOR-REGEX=TYPE (e.g. 'output\\.weight=Q8_0'), got '",
         arg, "'");
  const std::string re = arg.substr(0, eq), type = arg.substr(eq + 1);
  const auto t = parse_dtype(type);
  if (!t || !type_info(*t).weight_supported)
    fail("minima quantize: --keep ", arg, ": unknown weight type '", type, "'");
  auto pat = std::make_shared<Pattern>(re);
  return {re, [pat](std::string_view s) { return (*pat)(s); }, *t};
}

void draw_progress(size_t done, size_t total, const TensorPlan& t, bool tty) {
  const double f = total ? double(done) / double(total) : 1.0;
  if (tty) {
    const int width = 30, filled = int(f * width);
    std::fprintf(stderr, "\r[%s%s] %3.0f%% %s\x1b[K", std::string(size_t(filled), '=').c_str(),
                 std::string(size_t(width - filled), ' ').c_str(), 100 * f, t.name.c_str());
    if (done == total) std::fprintf(stderr, "\n");
  } else if (t.quantize) {
    std::fprintf(stderr, "%3.0f%% %s %s -> %s\n", 100 * f, t.name.c_str(),
                 std::string(type_info(t.from).name).c_str(),
                 std::string(type_info(t.to).name).c_str());
  }
}

}  // namespace

int cmd_quantize(int argc, char** argv, int first) {
  ArgParser p("quantize IN.gguf OUT.gguf TYPE",
              "Quantize a model's weights to TYPE: " + quant_recipe_names() + ".");
  p.flag("--pure", "every 2-D weight gets TYPE (no per-tensor mix)")
      .flag("--allow-requantize", "accept an already-quantized input (quality is lost twice)")
      .flag("--fast", "plain rounding instead of the error-minimizing search")
      .opt("--imatrix", "", "FILE",
           "importance matrix (minima imatrix) weighting the rounding error")
      .multi("--keep", "", "REGEX=TYPE",
             "tensors whose name matches REGEX get TYPE (first match wins; repeatable)")
      .flag("--quiet", "no progress output");
  add_compute_options(p);
  std::vector<std::string> pos;
  while (first < argc && argv[first][0] != '-' && pos.size() < 3) pos.emplace_back(argv[first++]);
  if (!p.parse(argc, argv, first)) return 0;
  if (pos.size() != 3)
    fail("minima quantize: usage: minima quantize IN.gguf OUT.gguf TYPE [options] (see --help)");
  const auto recipe = parse_quant_recipe(pos[2]);
  if (!recipe)
    fail("minima quantize: unknown type '", pos[2], "' (known: ", quant_recipe_names(), ")");
  if (std::filesystem::weakly_canonical(pos[0]) == std::filesystem::weakly_canonical(pos[1]))
    fail("minima quantize: the output would overwrite the input ", pos[0]);

  QuantizeOptions opt;
  opt.recipe = *recipe;
  opt.pure = p.get_flag("--pure");
  opt.allow_requantize = p.get_flag("--allow-requantize");
  opt.fast = p.get_flag("--fast");
  for (const auto& k : p.get_all("--keep")) opt.overrides.push_back(parse_keep(k));
  ImportanceMatrix imatrix;
  if (auto f = p.get("--imatrix")) {
    imatrix = read_imatrix(*f);
    opt.importance = &imatrix;
  }
  Compute c = make_compute(p);
  const GgufFile in = GgufFile::open(pos[0]);
  const auto plan = plan_quantization(in, opt);
  const bool quiet = p.get_flag("--quiet"), tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  quantize_model(in, plan, opt, pos[1], *c.pool,
                 [&](size_t done, size_t total, const TensorPlan& t) {
                   if (!quiet) draw_progress(done, total, t, tty);
                 });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t in_bytes = 0, out_bytes = 0, n_q = 0, n_w = 0;
  for (const auto& t : plan) {
    in_bytes += t.bytes_in;
    out_bytes += t.bytes_out;
    n_q += t.quantize;
    n_w += t.weighted;
  }
  std::printf("wrote %s: %s, %zu of %zu tensors quantized%s, %.2f MiB -> %.2f MiB in %.1f s\n",
              pos[1].c_str(), recipe->name.c_str(), n_q, plan.size(),
              opt.importance ? (" (" + std::to_string(n_w) + " with importance)").c_str() : "",
              double(in_bytes) / 1048576.0, double(out_bytes) / 1048576.0, secs);
  return 0;
}

}  // namespace minima::cli
