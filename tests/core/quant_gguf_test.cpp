// Layouts against files written by ggml's own quantizers: every quantized tensor of the
// conformance models (../shared/conformance/models/llama-tiny-*.gguf) is dequantized and compared
// with the same tensor of the F32 model it was quantized from. A misread layout scrambles or
// mis-scales elements, which shows up as a relative RMS error near or above 1; a correct one gives
// the format's quantization error (bounds below: the same per-type numbers as the round-trip test,
// which ggml's error-searching quantizers beat).
//
// The file reader here is deliberately minimal (tensor table only, no validation beyond what the
// test needs); the real GGUF reader lives in src/model/gguf.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/quant/quant.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

struct TinyTensor {
  uint32_t type = 0;
  int64_t n = 0;
  const uint8_t* data = nullptr;
};

class TinyGguf {
 public:
  explicit TinyGguf(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(f), {});
    if (u32() != 0x46554747u) throw std::runtime_error("not a GGUF file: " + path.string());
    const uint32_t version = u32();
    if (version < 2) throw std::runtime_error("GGUF v1 not handled");
    const uint64_t n_tensors = u64(), n_kv = u64();
    uint64_t alignment = 32;
    for (uint64_t i = 0; i < n_kv; ++i) {
      const std::string key = str();
      const uint32_t type = u32();
      if (key == "general.alignment" && type == 4) {
        alignment = u32();
      } else {
        skip_value(type);
      }
    }
    struct Info {
      std::string name;
      uint32_t type;
      int64_t n;
      uint64_t offset;
    };
    std::vector<Info> infos;
    for (uint64_t i = 0; i < n_tensors; ++i) {
      Info t;
      t.name = str();
      const uint32_t n_dims = u32();
      t.n = 1;
      for (uint32_t d = 0; d < n_dims; ++d) t.n *= int64_t(u64());
      t.type = u32();
      t.offset = u64();
      infos.push_back(t);
    }
    const uint64_t data = (pos_ + alignment - 1) / alignment * alignment;
    for (const auto& t : infos) tensors_[t.name] = {t.type, t.n, bytes_.data() + data + t.offset};
  }
  const std::map<std::string, TinyTensor>& tensors() const { return tensors_; }

 private:
  template <class T>
  T read() {
    T v;
    if (pos_ + sizeof(T) > bytes_.size()) throw std::runtime_error("truncated GGUF");
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint32_t u32() { return read<uint32_t>(); }
  uint64_t u64() { return read<uint64_t>(); }
  std::string str() {
    const uint64_t len = u64();
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }
  void skip_value(uint32_t type) {
    static const int kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
      str();
    } else if (type == 9) {
      const uint32_t elem = u32();
      const uint64_t count = u64();
      for (uint64_t i = 0; i < count; ++i) skip_value(elem);
    } else {
      pos_ += size_t(kSize[type]);
    }
  }

  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
  std::map<std::string, TinyTensor> tensors_;
};

// Upper bounds of the relative RMS error per type (see quant_roundtrip_test.cpp for the
// derivation); F16 / BF16 are bounded by their unit roundoff.
double rmse_bound(DType t) {
  switch (t) {
    case DType::F16:
      return 1e-3;
    case DType::BF16:
      return 8e-3;
    case DType::Q8_0:
      return 0.01;
    case DType::Q6_K:
      return 0.03;
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q5_K:
      return 0.07;
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q4_K:
      return 0.13;
    case DType::Q3_K:
      return 0.25;
    case DType::Q2_K:
      return 0.5;
    default:
      return 0.0;
  }
}

TEST(GgufLayout, QuantizedTensorsMatchTheirF32Source) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto dir = test::shared_dir() / "conformance/models";
  const TinyGguf f32(dir / "llama-tiny-F32.gguf");
  const KernelSet& fast = kernels_for(detect_isa());
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("llama-tiny-", 0) != 0 || name == "llama-tiny-F32.gguf") continue;
    const TinyGguf q(entry.path());
    for (const auto& [tname, t] : q.tensors()) {
      if (t.type == 0) continue;
      ASSERT_TRUE(type_info(t.type).has_value()) << name << " " << tname;
      const auto dt = static_cast<DType>(t.type);
      const TinyTensor& src = f32.tensors().at(tname);
      ASSERT_EQ(src.n, t.n);
      std::vector<float> out(size_t(t.n)), out_fast(size_t(t.n));
      quant::dequantize_row_ref(dt, t.data, out.data(), t.n);
      fast.dequantize_for(dt)(t.data, out_fast.data(), t.n);
      const auto* ref = reinterpret_cast<const float*>(src.data);
      double err = 0, norm = 0;
      for (int64_t i = 0; i < t.n; ++i) {
        err += (double(out[i]) - ref[i]) * (double(out[i]) - ref[i]);
        norm += double(ref[i]) * ref[i];
      }
      EXPECT_LT(std::sqrt(err / norm), rmse_bound(dt)) << name << " " << tname;
      EXPECT_EQ(0, std::memcmp(out.data(), out_fast.data(), out.size() * 4))
          << name << " " << tname;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace minima
