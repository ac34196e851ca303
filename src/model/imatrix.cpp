#include "model/imatrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/mapped_file.hpp"

namespace minima {
namespace {

constexpr int kSites = 4;  // per layer: AttnQkv, AttnOut, FfnGateUp, FfnDown

// The weight names fed by one site (q/k/v and gate/up share their input).
std::vector<std::string> site_tensors(int site, int64_t layer) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  switch (site) {
    case 0:
      return {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"};
    case 1:
      return {p + "attn_output.weight"};
    case 2:
      return {p + "ffn_gate.weight", p + "ffn_up.weight"};
    default:
      return {p + "ffn_down.weight"};
  }
}

class Cursor {
 public:
  Cursor(std::span<const uint8_t> b, std::string name) : b_(b), name_(std::move(name)) {}
  int32_t i32(const std::string& what) {
    int32_t v;
    std::memcpy(&v, take(4, what), 4);
    return v;
  }
  const uint8_t* take(size_t n, const std::string& what) {
    if (n > b_.size() - pos_)
      fail(name_, ": ", what, " at byte ", pos_, " needs ", n, " bytes, the file ends after ",
           b_.size() - pos_, " (truncated or not an importance matrix)");
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }

 private:
  std::span<const uint8_t> b_;
  std::string name_;
  size_t pos_ = 0;
};

void put_i32(std::ofstream& o, int32_t v) {
  o.write(reinterpret_cast<const char*>(&v), 4);
}

}  // namespace

ImportanceMatrix read_imatrix(const std::filesystem::path& path) {
  const MappedFile f(path, FileLoad::Map);
  Cursor c(f.bytes(), path.string());
  const int32_t n = c.i32("the entry count");
  if (n < 0) fail(path.string(), ": negative entry count ", n, " (not an importance matrix)");
  ImportanceMatrix m;
  for (int32_t e = 0; e < n; ++e) {
    const std::string at = "entry " + std::to_string(e + 1);
    const int32_t len = c.i32(at + " name length");
    if (len <= 0 || len > 4096) fail(path.string(), ": ", at, ": bad name length ", len);
    const auto* np = c.take(size_t(len), at + " name");
    std::string name(reinterpret_cast<const char*>(np), size_t(len));
    const int32_t ncall = c.i32(at + " (" + name + ") call count");
    const int32_t nval = c.i32(at + " (" + name + ") value count");
    if (nval <= 0) fail(path.string(), ": ", at, " (", name, "): bad value count ", nval);
    std::vector<float> v(static_cast<size_t>(nval));
    std::memcpy(v.data(), c.take(size_t(nval) * 4, at + " (" + name + ") values"), v.size() * 4);
    for (float& x : v) {
      if (!(x >= 0) || !std::isfinite(x))
        fail(path.string(), ": ", at, " (", name, "): a mean square is ", x,
             " (must be finite and non-negative)");
      if (ncall > 0) x /= float(ncall);
    }
    if (!m.emplace(std::move(name), std::move(v)).second)
      fail(path.string(), ": ", at, ": tensor listed twice");
  }
  return m;  // the trailing chunk count and dataset name are informational
}

void write_imatrix(const std::filesystem::path& path, const ImportanceMatrix& m, int32_t chunks,
                   const std::string& dataset) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    if (!o) fail("cannot write ", tmp.string());
    std::vector<const std::pair<const std::string, std::vector<float>>*> entries;
    for (const auto& e : m) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(),
              [](auto* a, auto* b) { return a->first < b->first; });  // stable files
    put_i32(o, int32_t(entries.size()));
    for (const auto* e : entries) {
      put_i32(o, int32_t(e->first.size()));
      o.write(e->first.data(), std::streamsize(e->first.size()));
      put_i32(o, chunks);
      put_i32(o, int32_t(e->second.size()));
      for (float x : e->second) {
        const float s = x * float(std::max(chunks, 1));
        o.write(reinterpret_cast<const char*>(&s), 4);
      }
    }
    put_i32(o, chunks);
    put_i32(o, int32_t(dataset.size()));
    o.write(dataset.data(), std::streamsize(dataset.size()));
    if (!o.flush()) fail("error writing ", tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

ImatrixCollector::ImatrixCollector(const Model& model)
    : output_name_(model.file().find_tensor("output.weight") ? "output.weight"
                                                             : "token_embd.weight"),
      n_layer_(model.hparams().n_layer),
      acc_(size_t(n_layer_ * kSites + 1)) {}

ImatrixCollector::Acc& ImatrixCollector::acc(MatmulSite site, int64_t layer, int64_t cols) {
  const size_t i =
      site == MatmulSite::Output ? acc_.size() - 1 : size_t(layer * kSites + int(site));
  Acc& a = acc_[i];
  if (a.sum.empty()) a.sum.assign(size_t(cols), 0.0);
  return a;
}

void ImatrixCollector::observe(MatmulSite site, int64_t layer, const float* x, int64_t n,
                               int64_t cols) {
  Acc& a = acc(site, layer, cols);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const double v = x[r * cols + j];
      a.sum[size_t(j)] += v * v;
    }
  a.rows += n;
}

ImportanceMatrix ImatrixCollector::result() const {
  ImportanceMatrix m;
  auto put = [&](const Acc& a, const std::vector<std::string>& names) {
    if (a.rows == 0) return;
    std::vector<float> mean(a.sum.size());
    for (size_t j = 0; j < mean.size(); ++j) mean[j] = float(a.sum[j] / double(a.rows));
    for (const auto& nm : names) m[nm] = mean;
  };
  for (int64_t l = 0; l < n_layer_; ++l)
    for (int s = 0; s < kSites; ++s) put(acc_[size_t(l * kSites + s)], site_tensors(s, l));
  put(acc_.back(), {output_name_});
  return m;
}

}  // namespace minima
