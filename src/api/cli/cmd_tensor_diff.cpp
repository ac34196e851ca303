// minima tensor-diff BASE.gguf OTHER.gguf: how far OTHER's tensors are from BASE's, tensor by
// tensor (both dequantized to F32): relative RMSE ‖other − base‖ / ‖base‖, and whether the bytes
// are identical (same type and same data). This is how quantizers are compared: quantize the same
// source with two tools, diff each against the source, and diff the two outputs with each other.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/gguf/gguf.hpp"

namespace minima::cli {

int cmd_tensor_diff(int argc, char** argv, int first) {
  ArgParser p("tensor-diff BASE.gguf OTHER.gguf",
              "Relative RMSE and byte identity of OTHER's tensors against BASE's.");
  p.flag("--json", "print one JSON object per tensor plus a total")
      .flag("--all", "list every tensor (default: only the 2-D ones)");
  std::vector<std::string> pos;
  while (first < argc && argv[first][0] != '-' && pos.size() < 2) pos.emplace_back(argv[first++]);
  if (!p.parse(argc, argv, first)) return 0;
  if (pos.size() != 2) fail("minima tensor-diff: usage: minima tensor-diff BASE.gguf OTHER.gguf");
  const GgufFile a = GgufFile::open(pos[0]), b = GgufFile::open(pos[1]);
  const bool json = p.get_flag("--json"), all = p.get_flag("--all");
  nlohmann::json rows = nlohmann::json::array();
  double tot_err = 0, tot_ref = 0;
  size_t n_same = 0, n_cmp = 0;
  std::vector<float> x, y;
  for (const auto& ta : a.tensors()) {
    const GgufTensorInfo* tb = b.find_tensor(ta.name);
    if (tb == nullptr) fail("minima tensor-diff: ", pos[1], " has no tensor '", ta.name, "'");
    if (tb->ne != ta.ne)
      fail("minima tensor-diff: tensor '", ta.name, "' is ", ta.shape_string(), " in ", pos[0],
           " but ", tb->shape_string(), " in ", pos[1]);
    if (!all && ta.n_dims < 2) continue;
    const int64_t cols = ta.ne[0], rows_n = ta.n_rows();
    x.resize(size_t(cols));
    y.resize(size_t(cols));
    double err = 0, ref = 0;
    for (int64_t r = 0; r < rows_n; ++r) {
      quant::dequantize_row_ref(ta.type, ta.data + size_t(r) * row_size(ta.type, cols), x.data(),
                                cols);
      quant::dequantize_row_ref(tb->type, tb->data + size_t(r) * row_size(tb->type, cols), y.data(),
                                cols);
      for (int64_t j = 0; j < cols; ++j) {
        const double d = double(y[size_t(j)]) - x[size_t(j)];
        err += d * d;
        ref += double(x[size_t(j)]) * x[size_t(j)];
      }
    }
    const bool same = ta.type == tb->type && ta.nbytes == tb->nbytes &&
                      std::memcmp(ta.data, tb->data, ta.nbytes) == 0;
    const double rel = ref > 0 ? std::sqrt(err / ref) : (err > 0 ? INFINITY : 0.0);
    tot_err += err;
    tot_ref += ref;
    n_same += same;
    ++n_cmp;
    if (json) {
      rows.push_back({{"tensor", ta.name},
                      {"base_type", std::string(type_info(ta.type).name)},
                      {"type", std::string(type_info(tb->type).name)},
                      {"rel_rmse", rel},
                      {"identical", same}});
    } else {
      std::printf("%-32s %6s -> %-6s rel RMSE %.6e%s\n", ta.name.c_str(),
                  std::string(type_info(ta.type).name).c_str(),
                  std::string(type_info(tb->type).name).c_str(), rel, same ? "  identical" : "");
    }
  }
  const double total = tot_ref > 0 ? std::sqrt(tot_err / tot_ref) : 0.0;
  if (json) {
    nlohmann::json j = {
        {"tensors", rows}, {"rel_rmse", total}, {"identical", n_same}, {"compared", n_cmp}};
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf("total: rel RMSE %.6e over %zu tensors, %zu byte-identical\n", total, n_cmp,
                n_same);
  }
  return 0;
}

}  // namespace minima::cli
