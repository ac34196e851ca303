#include "runtime/convert/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fp16.hpp"

namespace minima {
namespace {

size_t elem_size(StDType t) {
  return t == StDType::F32 ? 4 : 2;
}

}  // namespace

int64_t StTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void StTensor::to_f32(int64_t first, int64_t n, float* out) const {
  const uint8_t* p = data.data() + size_t(first) * elem_size(dtype);
  switch (dtype) {
    case StDType::F32:
      std::memcpy(out, p, size_t(n) * 4);
      break;
    case StDType::F16:
    case StDType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = dtype == StDType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      break;
  }
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile f;
  f.path_ = path.string();
  f.map_ = MappedFile(path, FileLoad::Map);
  const auto bytes = f.map_.bytes();
  const std::string& name = f.path_;
  if (bytes.size() < 8) fail(name, ": ", bytes.size(), " bytes, too short for a safetensors file");
  uint64_t hlen;
  std::memcpy(&hlen, bytes.data(), 8);
  if (hlen > bytes.size() - 8)
    fail(name, ": header length ", hlen, " exceeds the file (", bytes.size(),
         " bytes): truncated or not a safetensors file");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(hlen));
  } catch (const nlohmann::json::exception& e) {
    fail(name, ": the header is not valid JSON: ", e.what());
  }
  if (!h.is_object()) fail(name, ": the header is not a JSON object");
  const auto data = bytes.subspan(8 + hlen);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [key, v] : h.items()) {
    if (key == "__metadata__") continue;
    const std::string at = name + ": tensor '" + key + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
      fail(at, ": needs dtype, shape and data_offsets");
    StTensor t;
    t.name = key;
    const auto& dt = v["dtype"];
    if (!dt.is_string()) fail(at, ": dtype is not a string");
    const std::string d = dt.get<std::string>();
    if (d == "F32")
      t.dtype = StDType::F32;
    else if (d == "F16")
      t.dtype = StDType::F16;
    else if (d == "BF16")
      t.dtype = StDType::BF16;
    else
      fail(at, ": dtype ", d, " is not supported (F32, F16 and BF16 are)");
    if (!v["shape"].is_array() || v["shape"].size() > 8) fail(at, ": bad shape");
    int64_t n = 1;
    for (const auto& s : v["shape"]) {
      if (!s.is_number_unsigned() || s.get<uint64_t>() > (uint64_t(1) << 40))
        fail(at, ": bad dimension in shape ", v["shape"].dump());
      t.shape.push_back(s.get<int64_t>());
      n *= t.shape.back();
      if (n > (int64_t(1) << 40)) fail(at, ": shape ", v["shape"].dump(), " is too large");
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      fail(at, ": data_offsets must be [begin, end]");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data.size())
      fail(at, ": data_offsets [", b, ", ", e, "] outside the ", data.size(),
           " data bytes (truncated file?)");
    if (e - b != uint64_t(n) * elem_size(t.dtype))
      fail(at, ": ", e - b, " data bytes for ", d, " ", v["shape"].dump(), ", which needs ",
           uint64_t(n) * elem_size(t.dtype));
    t.data = data.subspan(b, e - b);
    ranges.emplace_back(b, e);
    f.tensors_.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) fail(name, ": two tensors' data overlap");
  return f;
}

SafetensorsSet SafetensorsSet::open(const std::filesystem::path& dir) {
  SafetensorsSet s;
  std::vector<std::filesystem::path> files;
  const auto index = dir / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    nlohmann::json j;
    try {
      std::ifstream in(index);
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(index.string(), ": not valid JSON: ", e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail(index.string(), ": no weight_map object");
    std::vector<std::string> shards;
    for (const auto& [k, v] : j["weight_map"].items()) {
      if (!v.is_string()) fail(index.string(), ": weight_map['", k, "'] is not a file name");
      const std::string f = v.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        fail(index.string(), ": shard name '", f, "' must be a file in ", dir.string());
      if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
    }
    for (const auto& f : shards) files.push_back(dir / f);
  } else if (std::filesystem::exists(dir / "model.safetensors")) {
    files.push_back(dir / "model.safetensors");
  } else {
    fail(dir.string(), ": no model.safetensors or model.safetensors.index.json");
  }
  for (const auto& f : files) {
    s.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(f)));
    for (const auto& t : s.files_.back()->tensors())
      if (!s.by_name_.emplace(t.name, &t).second)
        fail(f.string(), ": tensor '", t.name, "' appears in two shards");
  }
  return s;
}

const StTensor* SafetensorsSet::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const StTensor& SafetensorsSet::get(const std::string& name) const {
  const StTensor* t = find(name);
  if (t == nullptr) fail("the checkpoint has no tensor '", name, "'");
  return *t;
}

}  // namespace minima
