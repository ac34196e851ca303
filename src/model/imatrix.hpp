// Importance matrices: for each weight matrix, the mean squared value of each input column over
// calibration text, E[x_j²]. With it the quantizers weight the rounding error of column j by how
// strongly that column is driven, which is the expected output error when inputs are uncorrelated.
//
// File format: llama.cpp's imatrix .dat layout (little-endian), so either tool reads the other's
// files: int32 n_entries; per entry int32 name_len, name bytes, int32 ncall, int32 nval,
// float[nval] = mean·ncall; then int32 chunk count and int32 length + bytes of the dataset name.
// Readers divide by ncall. The reader checks every length against the bytes that are there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/batch_forward.hpp"
#include "model/model.hpp"

namespace minima {

// Tensor name → [ne0] mean squared input activation per column.
using ImportanceMatrix = std::unordered_map<std::string, std::vector<float>>;

// Throws Error naming the file and the entry that is malformed.
ImportanceMatrix read_imatrix(const std::filesystem::path& path);
// chunks: the number of calibration windows (stored as every entry's ncall); written to PATH.tmp
// and renamed.
void write_imatrix(const std::filesystem::path& path, const ImportanceMatrix& m, int32_t chunks,
                   const std::string& dataset);

// Accumulates E[x²] per input column of every weight matrix of `model` as a Session runs.
class ImatrixCollector : public MatmulObserver {
 public:
  explicit ImatrixCollector(const Model& model);
  void observe(MatmulSite site, int64_t layer, const float* x, int64_t n, int64_t cols) override;
  ImportanceMatrix result() const;  // means; tensors never reached are left out

 private:
  struct Acc {
    std::vector<double> sum;  // [cols] Σ x²
    int64_t rows = 0;
  };
  Acc& acc(MatmulSite site, int64_t layer, int64_t cols);

  std::string output_name_;  // output.weight, or token_embd.weight when tied
  int64_t n_layer_;
  std::vector<Acc> acc_;  // [n_layer * 4 + 1] by (layer, site)
};

}  // namespace minima
