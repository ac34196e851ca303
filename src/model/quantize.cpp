#include "model/quantize.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/gguf/writer.hpp"

namespace minima {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// llama-quantize's selection, restricted to the tensors of the architectures minima runs.
bool is_quantizable(const GgufTensorInfo& t) {
  return ends_with(t.name, "weight") && t.n_dims >= 2 &&
         t.name.find("_norm.weight") == std::string::npos;
}

bool is_weight_type(DType t) {
  switch (t) {
    case DType::Q8_1:
    case DType::Q8_K:
      return false;
    default:
      return type_info(t).weight_supported;
  }
}

bool is_float_type(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

// "blk.<N>.…" → N; −1 for tensors outside the blocks.
int64_t layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int64_t n = -1;
  const char* b = name.data() + 4;
  const auto [p, ec] = std::from_chars(b, name.data() + name.size(), n);
  return ec == std::errc() && p < name.data() + name.size() && *p == '.' ? n : -1;
}

}  // namespace

std::vector<TensorPlan> plan_quantization(const GgufFile& in, const QuantizeOptions& opt) {
  int64_t n_layer = 0;
  bool has_output = false;
  for (const auto& t : in.tensors()) {
    n_layer = std::max(n_layer, layer_of(t.name) + 1);
    has_output |= t.name == "output.weight";
  }
  for (const auto& o : opt.overrides)
    if (!is_weight_type(o.type) || o.type == DType::Q8_1)
      fail("quantize: --keep ", o.pattern, ": ", type_info(o.type).name, " is not a weight type");

  std::vector<TensorPlan> plan;
  for (const auto& t : in.tensors()) {
    TensorPlan p;
    p.name = t.name;
    p.from = p.to = t.type;
    p.shape.assign(t.ne.begin(), t.ne.begin() + t.n_dims);
    p.bytes_in = p.bytes_out = t.nbytes;
    if (is_quantizable(t)) {
      const bool is_output =
          t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
      const int64_t row = t.ne[0];
      DType to =
          opt.pure ? opt.recipe.base
                   : weight_type_for(opt.recipe, t.name, layer_of(t.name), n_layer, is_output, row);
      const char* why = opt.pure ? " (--pure)" : "";
      for (const auto& o : opt.overrides) {
        if (o.matches(t.name)) {
          to = o.type;
          why = " (--keep)";
          break;
        }
      }
      const int64_t bs = type_info(to).block_size;
      if (row % bs != 0)
        fail("quantize: tensor '", t.name, "' ", t.shape_string(), ": its rows of ", row,
             " elements are not a multiple of ", type_info(to).name, "'s block of ", bs, why,
             "; choose another type for it with --keep '", t.name, "=F16'");
      if (to != t.type) {
        if (!is_float_type(t.type) && !opt.allow_requantize)
          fail("quantize: tensor '", t.name, "' is already quantized (", type_info(t.type).name,
               "); requantizing loses quality twice: start from an F32/F16/BF16 file, or pass "
               "--allow-requantize");
        p.to = to;
        p.quantize = true;
        p.bytes_out = row_size(to, row) * size_t(t.n_rows());
        if (opt.importance != nullptr) {
          const auto it = opt.importance->find(t.name);
          if (it != opt.importance->end()) {
            if (int64_t(it->second.size()) != row)
              fail("quantize: the importance matrix has ", it->second.size(),
                   " columns for tensor '", t.name, "', whose rows have ", row,
                   " (was it computed for another model?)");
            p.weighted = true;
          }
        }
      }
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

void quantize_model(const GgufFile& in, const std::vector<TensorPlan>& plan,
                    const QuantizeOptions& opt, const std::filesystem::path& out, ThreadPool& pool,
                    const QuantizeProgress& progress) {
  GgufWriter w(static_cast<uint32_t>(in.alignment()));
  w.copy_metadata_from(in);
  w.set_u32("general.file_type", opt.recipe.file_type);
  w.set_u32("general.quantization_version", 2);

  size_t total = 0;
  for (const auto& p : plan) total += p.bytes_in;
  auto done = std::make_shared<size_t>(0);
  for (const auto& p : plan) {
    const GgufTensorInfo* t = in.find_tensor(p.name);
    if (t == nullptr) fail("quantize: tensor '", p.name, "' is not in ", in.name());
    const float* imp = nullptr;
    if (p.weighted) imp = opt.importance->at(p.name).data();
    w.add_tensor(p.name, p.to, p.shape, [&, t, imp, done](std::span<uint8_t> dst) {
      if (!p.quantize) {
        std::memcpy(dst.data(), t->data, dst.size());
      } else {
        const int64_t cols = t->ne[0], rows = t->n_rows();
        const size_t rb_in = row_size(t->type, cols), rb_out = row_size(p.to, cols);
        std::vector<float> buf(size_t(cols) * size_t(pool.size()));
        pool.run([&](int ith, int nth) {
          float* x = buf.data() + size_t(ith) * size_t(cols);
          for (int64_t r = rows * ith / nth; r < rows * (ith + 1) / nth; ++r) {
            quant::dequantize_row_ref(t->type, t->data + size_t(r) * rb_in, x, cols);
            uint8_t* y = dst.data() + size_t(r) * rb_out;
            if (opt.fast)
              quant::quantize_row_ref(p.to, x, y, cols);
            else
              quant::quantize_row_search(p.to, x, y, cols, imp);
          }
        });
      }
      *done += p.bytes_in;
      if (progress) progress(*done, total, p);
    });
  }
  w.write(out);
}

}  // namespace minima
