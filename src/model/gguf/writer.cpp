#include "model/gguf/writer.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "core/error.hpp"

namespace minima {
namespace {

class Out {
 public:
  explicit Out(std::ofstream& f) : f_(f) {}
  template <class T>
  void put(T v) {
    f_.write(reinterpret_cast<const char*>(&v), sizeof v);
    pos_ += sizeof v;
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    f_.write(s.data(), static_cast<std::streamsize>(s.size()));
    pos_ += s.size();
  }
  void pad_to(size_t alignment) {
    while (pos_ % alignment) put<uint8_t>(0);
  }
  void bytes(const uint8_t* p, size_t n) {
    f_.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
    pos_ += n;
  }
  size_t pos() const { return pos_; }

 private:
  std::ofstream& f_;
  size_t pos_ = 0;
};

void put_int(Out& o, GgufType t, int64_t v) {
  switch (t) {
    case GgufType::U8:
      o.put<uint8_t>(static_cast<uint8_t>(v));
      break;
    case GgufType::I8:
      o.put<int8_t>(static_cast<int8_t>(v));
      break;
    case GgufType::U16:
      o.put<uint16_t>(static_cast<uint16_t>(v));
      break;
    case GgufType::I16:
      o.put<int16_t>(static_cast<int16_t>(v));
      break;
    case GgufType::U32:
      o.put<uint32_t>(static_cast<uint32_t>(v));
      break;
    case GgufType::I32:
      o.put<int32_t>(static_cast<int32_t>(v));
      break;
    case GgufType::U64:
      o.put<uint64_t>(static_cast<uint64_t>(v));
      break;
    case GgufType::I64:
      o.put<int64_t>(v);
      break;
    default:
      fail("GGUF writer: ", gguf_type_name(t), " is not an integer type");
  }
}

void put_array(Out& o, const GgufArray& a) {
  o.put<uint32_t>(static_cast<uint32_t>(a.elem_type));
  o.put<uint64_t>(a.size());
  switch (a.elem_type) {
    case GgufType::String:
      for (const auto& s : a.strings) o.put_string(s);
      break;
    case GgufType::Array:
      for (const auto& x : a.arrays) put_array(o, x);
      break;
    case GgufType::Bool:
      for (uint8_t b : a.bools) o.put<uint8_t>(b ? 1 : 0);
      break;
    case GgufType::F32:
      for (double d : a.floats) o.put<float>(static_cast<float>(d));
      break;
    case GgufType::F64:
      for (double d : a.floats) o.put<double>(d);
      break;
    default:
      for (int64_t i : a.ints) put_int(o, a.elem_type, i);
  }
}

void put_value(Out& o, const GgufValue& v) {
  o.put<uint32_t>(static_cast<uint32_t>(v.type));
  switch (v.type) {
    case GgufType::String:
      o.put_string(std::get<std::string>(v.v));
      break;
    case GgufType::Bool:
      o.put<uint8_t>(std::get<bool>(v.v) ? 1 : 0);
      break;
    case GgufType::F32:
      o.put<float>(static_cast<float>(std::get<double>(v.v)));
      break;
    case GgufType::F64:
      o.put<double>(std::get<double>(v.v));
      break;
    case GgufType::Array:
      put_array(o, *std::get<std::shared_ptr<const GgufArray>>(v.v));
      break;
    default: {
      const int64_t i = std::holds_alternative<uint64_t>(v.v)
                            ? static_cast<int64_t>(std::get<uint64_t>(v.v))
                            : std::get<int64_t>(v.v);
      put_int(o, v.type, i);
    }
  }
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("GGUF writer: alignment ", alignment, " is not a power of two");
  if (alignment != 32) set_u32("general.alignment", alignment);
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string v) {
  set(key, {GgufType::String, std::move(v)});
}
void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  set(key, {GgufType::U32, uint64_t(v)});
}
void GgufWriter::set_i32(const std::string& key, int32_t v) {
  set(key, {GgufType::I32, int64_t(v)});
}
void GgufWriter::set_u64(const std::string& key, uint64_t v) {
  set(key, {GgufType::U64, v});
}
void GgufWriter::set_f32(const std::string& key, float v) {
  set(key, {GgufType::F32, double(v)});
}
void GgufWriter::set_bool(const std::string& key, bool v) {
  set(key, {GgufType::Bool, v});
}
void GgufWriter::set_array(const std::string& key, GgufArray a) {
  set(key, {GgufType::Array, std::make_shared<const GgufArray>(std::move(a))});
}

void GgufWriter::copy_metadata_from(const GgufFile& f) {
  for (const auto& [k, v] : f.metadata())
    if (k != "general.alignment") set(k, v);
}

GgufArray GgufWriter::strings(std::vector<std::string> v) {
  GgufArray a;
  a.elem_type = GgufType::String;
  a.strings = std::move(v);
  return a;
}
GgufArray GgufWriter::floats(std::vector<double> v, GgufType t) {
  GgufArray a;
  a.elem_type = t;
  a.floats = std::move(v);
  return a;
}
GgufArray GgufWriter::ints(std::vector<int64_t> v, GgufType t) {
  GgufArray a;
  a.elem_type = t;
  a.ints = std::move(v);
  return a;
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<int64_t> shape, Fill fill) {
  if (shape.empty() || shape.size() > 4)
    fail("GGUF writer: tensor '", name, "': 1..4 dimensions required");
  const TypeInfo& ti = type_info(type);
  if (shape[0] % ti.block_size != 0)
    fail("GGUF writer: tensor '", name, "': row length ", shape[0], " is not a multiple of the ",
         ti.name, " block size ", ti.block_size);
  for (const auto& t : tensors_)
    if (t.name == name) fail("GGUF writer: duplicate tensor '", name, "'");
  int64_t rows = 1;
  for (size_t i = 1; i < shape.size(); ++i) rows *= shape[i];
  const size_t nbytes = row_size(type, shape[0]) * static_cast<size_t>(rows);
  tensors_.push_back({std::move(name), type, std::move(shape), nbytes, std::move(fill)});
}

void GgufWriter::write(const std::filesystem::path& path) const {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(tmp.string(), ": cannot create file");
    Out o(f);
    o.put<uint32_t>(0x46554747);
    o.put<uint32_t>(3);
    o.put<uint64_t>(tensors_.size());
    o.put<uint64_t>(kv_.size());
    for (const auto& [k, v] : kv_) {
      o.put_string(k);
      put_value(o, v);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      o.put_string(t.name);
      o.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
      for (int64_t d : t.shape) o.put<int64_t>(d);
      o.put<uint32_t>(static_cast<uint32_t>(t.type));
      o.put<uint64_t>(offset);
      offset += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
    }
    o.pad_to(alignment_);
    std::vector<uint8_t> buf;
    for (const auto& t : tensors_) {
      buf.assign(t.nbytes, 0);
      t.fill(std::span<uint8_t>(buf));
      o.bytes(buf.data(), buf.size());
      o.pad_to(alignment_);
    }
    f.flush();
    if (!f) fail(tmp.string(), ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    fail(path.string(), ": cannot rename the finished file into place: ", ec.message());
  }
}

}  // namespace minima
