#include "model/prune.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <numeric>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/forward.hpp"
#include "model/gguf/writer.hpp"

namespace minima {
namespace {

using Index = std::vector<int64_t>;

// The k best indices by score (ties: the lower index), in ascending index order.
Index top_k(const std::vector<double>& score, int64_t k) {
  Index idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
  idx.resize(size_t(std::clamp<int64_t>(k, 0, int64_t(idx.size()))));
  std::sort(idx.begin(), idx.end());
  return idx;
}

Index all(int64_t n) {
  Index v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Rows of the blocks `blocks` of `width` consecutive rows each.
Index expand(const Index& blocks, int64_t width) {
  Index v;
  for (int64_t b : blocks)
    for (int64_t i = 0; i < width; ++i) v.push_back(b * width + i);
  return v;
}

int64_t layer_of(const std::string& name, std::string* rest) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int64_t n = -1;
  const char* b = name.data() + 4;
  const auto [p, ec] = std::from_chars(b, name.data() + name.size(), n);
  if (ec != std::errc() || p == name.data() + name.size() || *p != '.') return -1;
  *rest = std::string(p + 1, name.data() + name.size());
  return n;
}

}  // namespace

PruneImportance::PruneImportance(const Model& model)
    : n_layer_(model.hparams().n_layer),
      n_embd_(model.hparams().n_embd),
      n_ff_(model.hparams().n_ff),
      n_head_(model.hparams().n_head),
      n_kv_(model.hparams().n_head_kv),
      head_dim_v_(model.hparams().head_dim_v),
      ffn_(size_t(n_layer_), std::vector<double>(size_t(n_ff_))),
      head_(size_t(n_layer_), std::vector<double>(size_t(n_head_))),
      embd_(size_t(n_embd_)),
      influence_(size_t(n_layer_)) {}

void PruneImportance::observe(MatmulSite site, int64_t layer, const float* x, int64_t n,
                              int64_t cols) {
  switch (site) {
    case MatmulSite::FfnDown:
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < cols; ++j)
          ffn_[size_t(layer)][size_t(j)] += double(x[r * cols + j]) * x[r * cols + j];
      break;
    case MatmulSite::AttnOut:
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < cols; ++j)
          head_[size_t(layer)][size_t(j / head_dim_v_)] +=
              double(x[r * cols + j]) * x[r * cols + j];
      break;
    case MatmulSite::AttnQkv:
    case MatmulSite::FfnGateUp:
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < cols; ++j)
          embd_[size_t(j)] += double(x[r * cols + j]) * x[r * cols + j];
      norm_rows_ += n;
      break;
    case MatmulSite::Output:
      break;
  }
}

void PruneImportance::observe_residual(int64_t layer, const float* x, int64_t n, int64_t cols) {
  if (layer > 0) {
    for (int64_t r = 0; r < n; ++r) {
      const float* a = prev_.data() + r * cols;
      const float* b = x + r * cols;
      double ab = 0, aa = 0, bb = 0;
      for (int64_t j = 0; j < cols; ++j) {
        ab += double(a[j]) * b[j];
        aa += double(a[j]) * a[j];
        bb += double(b[j]) * b[j];
      }
      const double c = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 1.0;
      influence_[size_t(layer - 1)] += 1.0 - c;
    }
  } else {
    rows_ += n;
  }
  if (layer < n_layer_) prev_.assign(x, x + n * cols);
}

std::vector<double> PruneImportance::ffn(int64_t layer) const {
  return ffn_[size_t(layer)];
}

std::vector<double> PruneImportance::kv_groups(int64_t layer) const {
  std::vector<double> g(static_cast<size_t>(n_kv_));
  const int64_t per = n_head_ / n_kv_;
  for (int64_t h = 0; h < n_head_; ++h) g[size_t(h / per)] += head_[size_t(layer)][size_t(h)];
  return g;
}

std::vector<double> PruneImportance::embd() const {
  return embd_;
}
std::vector<double> PruneImportance::depth() const {
  return influence_;
}

PruneImportance measure_importance(const Model& m, std::span<const int32_t> ids, int64_t ctx,
                                   const KernelSet& ks, ThreadPool& pool) {
  PruneImportance imp(m);
  SessionOptions so;
  so.n_ctx = ctx;
  Session s(m, ks, pool, so);
  s.set_observer(&imp);
  for (size_t w = 0; (w + 1) * size_t(ctx) <= ids.size(); ++w) {
    s.reset();
    s.eval(ids.subspan(w * size_t(ctx), size_t(ctx)));
  }
  return imp;
}

int64_t pruned_param_count(const Model& m, const PruneCounts& k) {
  const HParams& hp = m.hparams();
  const int64_t E = k.n_embd, hd = hp.head_dim, hdv = hp.head_dim_v;
  const int64_t kv = k.n_head_kv, H = kv * (hp.n_head / hp.n_head_kv), F = k.n_ff;
  const bool tied = m.file().find_tensor("output.weight") == nullptr;
  int64_t per_layer = 2 * E + E * H * hd + E * kv * hd + E * kv * hdv + H * hdv * E + 3 * E * F;
  if (!m.layers().empty() && !m.layers()[0].bq.empty()) per_layer += H * hd + kv * hd + kv * hdv;
  if (!m.layers().empty() && !m.layers()[0].q_norm.empty()) per_layer += 2 * hd;
  return hp.n_vocab * E * (tied ? 1 : 2) + E + k.n_layer * per_layer;
}

PrunePlan plan_pruning(const Model& m, const PruneImportance& imp, const PruneCounts& k) {
  const HParams& hp = m.hparams();
  if (k.n_layer < 1 || k.n_layer > hp.n_layer || k.n_head_kv < 1 || k.n_head_kv > hp.n_head_kv ||
      k.n_ff < 1 || k.n_ff > hp.n_ff || k.n_embd < 1 || k.n_embd > hp.n_embd)
    fail("prune: cannot keep ", k.n_layer, " layers, ", k.n_head_kv, " KV groups, ", k.n_ff,
         " FFN channels and ", k.n_embd, " embedding channels of a model with ", hp.n_layer, ", ",
         hp.n_head_kv, ", ", hp.n_ff, " and ", hp.n_embd);
  PrunePlan p;
  p.layers = top_k(imp.depth(), k.n_layer);
  for (int64_t l : p.layers) {
    p.kv_groups.push_back(top_k(imp.kv_groups(l), k.n_head_kv));
    p.ffn.push_back(top_k(imp.ffn(l), k.n_ff));
  }
  p.embd = top_k(imp.embd(), k.n_embd);
  return p;
}

void write_pruned(const Model& teacher, const PrunePlan& plan, DType type,
                  const std::filesystem::path& out) {
  if (type != DType::F32 && type != DType::F16)
    fail("prune: the student is written in F32 or F16 (quantize it afterwards)");
  const GgufFile& f = teacher.file();
  const HParams& hp = teacher.hparams();
  const std::string a = f.get_string("general.architecture").value_or("llama");
  const int64_t group = hp.n_head / hp.n_head_kv, hd = hp.head_dim, hdv = hp.head_dim_v;
  const int64_t kv = int64_t(plan.kv_groups.empty() ? hp.n_head_kv : plan.kv_groups[0].size());
  const int64_t F = int64_t(plan.ffn.empty() ? hp.n_ff : plan.ffn[0].size());
  const int64_t E = int64_t(plan.embd.size());

  GgufWriter w(static_cast<uint32_t>(f.alignment()));
  w.copy_metadata_from(f);
  w.set_string("general.name", f.get_string("general.name").value_or("model") + " (pruned)");
  w.set_u32("general.file_type", type == DType::F32 ? 0 : 1);
  w.set_u32(a + ".block_count", uint32_t(plan.layers.size()));
  w.set_u32(a + ".embedding_length", uint32_t(E));
  w.set_u32(a + ".feed_forward_length", uint32_t(F));
  w.set_u32(a + ".attention.head_count", uint32_t(kv * group));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(kv));
  w.set_u32(a + ".attention.key_length", uint32_t(hd));  // head_dim no longer n_embd / n_head
  w.set_u32(a + ".attention.value_length", uint32_t(hdv));

  std::vector<int64_t> new_index(static_cast<size_t>(hp.n_layer), -1);
  for (size_t i = 0; i < plan.layers.size(); ++i) new_index[size_t(plan.layers[i])] = int64_t(i);

  for (const auto& t : f.tensors()) {
    std::string rest;
    const int64_t l = layer_of(t.name, &rest);
    std::string name = t.name;
    auto rows = std::make_shared<Index>(), cols = std::make_shared<Index>();
    const bool matrix = t.n_dims >= 2;
    *rows = all(matrix ? t.n_rows() : 1);
    *cols = all(t.ne[0]);
    if (l >= 0) {
      if (l >= hp.n_layer || new_index[size_t(l)] < 0) continue;  // a dropped block
      const size_t i = size_t(new_index[size_t(l)]);
      name = "blk." + std::to_string(i) + "." + rest;
      Index heads;
      for (int64_t g : plan.kv_groups[i])
        for (int64_t h = 0; h < group; ++h) heads.push_back(g * group + h);
      if (rest == "attn_norm.weight" || rest == "ffn_norm.weight") {
        *cols = plan.embd;
      } else if (rest == "attn_q.weight") {
        *rows = expand(heads, hd), *cols = plan.embd;
      } else if (rest == "attn_k.weight") {
        *rows = expand(plan.kv_groups[i], hd), *cols = plan.embd;
      } else if (rest == "attn_v.weight") {
        *rows = expand(plan.kv_groups[i], hdv), *cols = plan.embd;
      } else if (rest == "attn_q.bias") {
        *cols = expand(heads, hd);
      } else if (rest == "attn_k.bias") {
        *cols = expand(plan.kv_groups[i], hd);
      } else if (rest == "attn_v.bias") {
        *cols = expand(plan.kv_groups[i], hdv);
      } else if (rest == "attn_output.weight") {
        *rows = plan.embd, *cols = expand(heads, hdv);
      } else if (rest == "ffn_gate.weight" || rest == "ffn_up.weight") {
        *rows = plan.ffn[i], *cols = plan.embd;
      } else if (rest == "ffn_down.weight") {
        *rows = plan.embd, *cols = plan.ffn[i];
      } else if (rest != "attn_q_norm.weight" && rest != "attn_k_norm.weight") {
        fail("prune: tensor '", t.name, "' is not one minima knows how to prune");
      }
    } else if (t.name == "token_embd.weight" || t.name == "output.weight" ||
               t.name == "output_norm.weight") {
      *cols = plan.embd;
    }
    const DType to = matrix ? type : DType::F32;
    std::vector<int64_t> shape = {int64_t(cols->size())};
    if (matrix) shape.push_back(int64_t(rows->size()));
    const GgufTensorInfo* src = &t;
    w.add_tensor(name, to, shape, [src, rows, cols, to](std::span<uint8_t> dst) {
      const int64_t n0 = src->ne[0];
      const size_t rb_in = row_size(src->type, n0), rb_out = row_size(to, int64_t(cols->size()));
      std::vector<float> in(static_cast<size_t>(n0)), o(cols->size());
      for (size_t r = 0; r < rows->size(); ++r) {
        quant::dequantize_row_ref(src->type, src->data + size_t((*rows)[r]) * rb_in, in.data(), n0);
        for (size_t c = 0; c < cols->size(); ++c) o[c] = in[size_t((*cols)[c])];
        quant::quantize_row_ref(to, o.data(), dst.data() + r * rb_out, int64_t(o.size()));
      }
    });
  }
  w.write(out);
}

}  // namespace minima
