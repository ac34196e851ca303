// GGUF parsing and validation. The cursor never reads past the end: every count read from the file
// is checked against the bytes left (each element needs at least one byte) before anything is
// reserved, so an absurd count fails fast with the field's name instead of allocating.
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"

namespace minima {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;
constexpr uint64_t kMaxNameLen = 1 << 16;

class Cursor {
 public:
  Cursor(std::span<const uint8_t> b, const std::string& file) : b_(b), file_(file) {}

  size_t pos() const { return pos_; }
  size_t left() const { return b_.size() - pos_; }

  template <class T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& field, uint64_t max_len = UINT64_MAX) {
    const uint64_t n = read<uint64_t>(field + " (string length)");
    if (n > left())
      bad(field, "string length ", n, " exceeds the ", left(), " bytes left in the file");
    if (n > max_len) bad(field, "string length ", n, " exceeds the limit of ", max_len);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  // A count of elements that each take at least min_bytes: reject it before allocating.
  uint64_t read_count(const std::string& field, uint64_t min_bytes) {
    const uint64_t n = read<uint64_t>(field);
    if (min_bytes > 0 && n > left() / min_bytes)
      bad(field, "count ", n, " is impossible: it needs at least ", n, " x ", min_bytes,
          " bytes but only ", left(), " are left (truncated or corrupt file)");
    return n;
  }

  void need(size_t n, const std::string& field) const {
    if (n > left())
      bad(field, "file truncated (need ", n, " bytes at offset ", pos_, ", have ", left(), ")");
  }

  template <class... P>
  [[noreturn]] void bad(const std::string& field, P&&... parts) const {
    fail(file_, ": ", field, ": ", std::forward<P>(parts)...);
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  const std::string& file_;
};

// Minimum bytes one value of this type occupies on disk (for count sanity checks).
uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::Bool:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
    case GgufType::String:  // its length
      return 8;
    case GgufType::Array:  // element type + count
      return 12;
  }
  return 1;
}

bool valid_type(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufType::F64);
}

GgufArray read_array(Cursor& c, const std::string& field, int depth);

GgufValue read_scalar(Cursor& c, GgufType t, const std::string& field, int depth) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufType::U8:
      v.v = uint64_t(c.read<uint8_t>(field));
      break;
    case GgufType::I8:
      v.v = int64_t(c.read<int8_t>(field));
      break;
    case GgufType::U16:
      v.v = uint64_t(c.read<uint16_t>(field));
      break;
    case GgufType::I16:
      v.v = int64_t(c.read<int16_t>(field));
      break;
    case GgufType::U32:
      v.v = uint64_t(c.read<uint32_t>(field));
      break;
    case GgufType::I32:
      v.v = int64_t(c.read<int32_t>(field));
      break;
    case GgufType::U64:
      v.v = c.read<uint64_t>(field);
      break;
    case GgufType::I64:
      v.v = c.read<int64_t>(field);
      break;
    case GgufType::F32:
      v.v = double(c.read<float>(field));
      break;
    case GgufType::F64:
      v.v = c.read<double>(field);
      break;
    case GgufType::Bool: {
      const uint8_t b = c.read<uint8_t>(field);
      if (b > 1) c.bad(field, "bool value ", int(b), " is neither 0 nor 1");
      v.v = b != 0;
      break;
    }
    case GgufType::String:
      v.v = c.read_string(field);
      break;
    case GgufType::Array:
      v.v = std::make_shared<const GgufArray>(read_array(c, field, depth + 1));
      break;
  }
  return v;
}

GgufArray read_array(Cursor& c, const std::string& field, int depth) {
  if (depth > kMaxArrayDepth) c.bad(field, "arrays nested deeper than ", kMaxArrayDepth);
  const uint32_t et = c.read<uint32_t>(field + " (array element type)");
  if (!valid_type(et)) c.bad(field, "unknown array element type ", et);
  GgufArray a;
  a.elem_type = static_cast<GgufType>(et);
  const uint64_t n = c.read_count(field + " (array length)", min_value_bytes(a.elem_type));
  switch (a.elem_type) {
    case GgufType::String:
      a.strings.reserve(n);
      for (uint64_t i = 0; i < n; ++i)
        a.strings.push_back(c.read_string(field + "[" + std::to_string(i) + "]"));
      break;
    case GgufType::Array:
      a.arrays.reserve(n);
      for (uint64_t i = 0; i < n; ++i)
        a.arrays.push_back(read_array(c, field + "[" + std::to_string(i) + "]", depth + 1));
      break;
    case GgufType::Bool:
      a.bools.reserve(n);
      for (uint64_t i = 0; i < n; ++i)
        a.bools.push_back(std::get<bool>(read_scalar(c, a.elem_type, field, depth).v));
      break;
    case GgufType::F32:
    case GgufType::F64:
      a.floats.reserve(n);
      for (uint64_t i = 0; i < n; ++i)
        a.floats.push_back(std::get<double>(read_scalar(c, a.elem_type, field, depth).v));
      break;
    default: {  // integers
      a.ints.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        const GgufValue v = read_scalar(c, a.elem_type, field, depth);
        a.ints.push_back(std::holds_alternative<uint64_t>(v.v)
                             ? static_cast<int64_t>(std::get<uint64_t>(v.v))
                             : std::get<int64_t>(v.v));
      }
    }
  }
  return a;
}

// a * b for non-negative values, false on overflow of int64.
bool mul_ok(int64_t a, int64_t b, int64_t& out) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  static constexpr std::string_view names[] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                               "i32", "f32", "bool", "string", "array",
                                               "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

size_t GgufArray::size() const {
  return std::max({ints.size(), floats.size(), bools.size(), strings.size(), arrays.size()});
}

std::string GgufTensorInfo::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

GgufFile GgufFile::open(const std::filesystem::path& path, FileLoad load) {
  GgufFile f;
  f.map_ = MappedFile(path, load);
  f.bytes_ = f.map_.bytes();
  f.name_ = path.string();
  f.parse_all();
  return f;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  GgufFile f;
  f.bytes_ = bytes;
  f.name_ = std::move(name);
  f.parse_all();
  return f;
}

void GgufFile::parse_all() {
  Cursor c(bytes_, name_);
  const uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kMagic) {
    if (magic == 0x47475546) c.bad("magic", "big-endian GGUF files are not supported");
    c.bad("magic", "not a GGUF file (first bytes are not \"GGUF\")");
  }
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) c.bad("version", "GGUF v1 is obsolete; convert the file to v3");
  if (version_ != 2 && version_ != 3)
    c.bad("version", "unsupported GGUF version ", version_, " (supported: 2, 3)");

  // Each tensor info needs >= 8 (name len) + 4 (n_dims) + 4 (type) + 8 (offset) bytes; each kv
  // needs >= 8 (key len) + 4 (type) + 1.
  const uint64_t n_tensors = c.read_count("tensor_count", 24);
  const uint64_t n_kv = c.read_count("metadata_kv_count", 13);

  kv_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string where = "metadata entry " + std::to_string(i);
    std::string key = c.read_string(where + " key", kMaxNameLen);
    if (key.empty()) c.bad(where, "empty key");
    const uint32_t t = c.read<uint32_t>("metadata '" + key + "' type");
    if (!valid_type(t)) c.bad("metadata '" + key + "'", "unknown value type ", t);
    GgufValue v = read_scalar(c, static_cast<GgufType>(t), "metadata '" + key + "'", 0);
    if (kv_index_.count(key)) c.bad("metadata '" + key + "'", "duplicate key");
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufType::U32)
      c.bad("metadata 'general.alignment'", "must be u32, is ", gguf_type_name(a->type));
    const uint64_t al = std::get<uint64_t>(a->v);
    if (al == 0 || (al & (al - 1)) != 0 || al > (1u << 20))
      c.bad("metadata 'general.alignment'", "must be a power of two up to 1 MiB, is ", al);
    alignment_ = al;
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string("tensor " + std::to_string(i) + " name", kMaxNameLen);
    const std::string where = "tensor '" + t.name + "'";
    const uint32_t nd = c.read<uint32_t>(where + " n_dims");
    if (nd == 0 || nd > 4) c.bad(where, "n_dims ", nd, " (must be 1..4)");
    t.n_dims = static_cast<int>(nd);
    for (uint32_t d = 0; d < nd; ++d) {
      const int64_t ne = c.read<int64_t>(where + " shape");
      if (ne < 0) c.bad(where, "negative dimension ", ne, " in axis ", d);
      t.ne[d] = ne;
    }
    const uint32_t ty = c.read<uint32_t>(where + " type");
    const auto info = type_info(ty);
    if (!info) c.bad(where, "tensor type ", type_name(ty), " (", ty, ") is not supported");
    t.type = static_cast<DType>(ty);
    t.offset = c.read<uint64_t>(where + " offset");

    int64_t n = 1;
    for (int d = 0; d < 4; ++d)
      if (!mul_ok(n, t.ne[d], n))
        c.bad(where, "shape ", t.shape_string(), " overflows 64-bit element count");
    if (t.ne[0] % info->block_size != 0)
      c.bad(where, "row length ", t.ne[0], " is not a multiple of the ", info->name, " block size ",
            info->block_size);
    int64_t bytes = 0;
    if (!mul_ok(n / info->block_size, static_cast<int64_t>(info->type_size), bytes))
      c.bad(where, "shape ", t.shape_string(), " overflows the byte size");
    t.nbytes = static_cast<size_t>(bytes);
    if (t.offset % alignment_ != 0)
      c.bad(where, "offset ", t.offset, " is not a multiple of the alignment ", alignment_);
    if (tensor_index_.count(t.name)) c.bad(where, "duplicate tensor name");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment after the header.
  data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > bytes_.size())
    c.bad("data section", "starts at ", data_offset_, " but the file has only ", bytes_.size(),
          " bytes");
  const uint64_t data_size = bytes_.size() >= data_offset_ ? bytes_.size() - data_offset_ : 0;
  for (auto& t : tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      fail(name_, ": tensor '", t.name, "': data [", t.offset, ", ", t.offset + t.nbytes,
           ") lies past the end of the data section (", data_size, " bytes; file truncated?)");
    t.data = bytes_.data() + data_offset_ + t.offset;
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::String)
    fail(name_, ": metadata '", key, "': expected string, found ", gguf_type_name(v->type));
  return std::get<std::string>(v->v);
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer())
    fail(name_, ": metadata '", key, "': expected an integer, found ", gguf_type_name(v->type));
  if (const auto* u = std::get_if<uint64_t>(&v->v)) {
    if (*u > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(name_, ": metadata '", key, "': value ", *u, " too large");
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(v->v);
}

std::optional<uint32_t> GgufFile::get_u32(std::string_view key) const {
  const auto i = get_int(key);
  if (!i) return std::nullopt;
  if (*i < 0 || *i > int64_t(UINT32_MAX))
    fail(name_, ": metadata '", key, "': value ", *i, " out of range for u32");
  return static_cast<uint32_t>(*i);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return std::get<double>(v->v);
  if (v->is_integer()) return static_cast<double>(*get_int(key));
  fail(name_, ": metadata '", key, "': expected a number, found ", gguf_type_name(v->type));
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::Bool)
    fail(name_, ": metadata '", key, "': expected bool, found ", gguf_type_name(v->type));
  return std::get<bool>(v->v);
}

const GgufArray* GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  if (v->type != GgufType::Array)
    fail(name_, ": metadata '", key, "': expected an array, found ", gguf_type_name(v->type));
  return std::get<std::shared_ptr<const GgufArray>>(v->v).get();
}

std::string gguf_value_to_string(const GgufValue& v, size_t max_items) {
  switch (v.type) {
    case GgufType::String:
      return "\"" + std::get<std::string>(v.v) + "\"";
    case GgufType::Bool:
      return std::get<bool>(v.v) ? "true" : "false";
    case GgufType::F32:
    case GgufType::F64: {
      std::ostringstream os;
      os << std::get<double>(v.v);
      return os.str();
    }
    case GgufType::Array: {
      const auto& a = *std::get<std::shared_ptr<const GgufArray>>(v.v);
      std::ostringstream os;
      os << "[" << gguf_type_name(a.elem_type) << " x " << a.size();
      const size_t n = std::min(a.size(), max_items);
      for (size_t i = 0; i < n; ++i) {
        os << (i ? ", " : ": ");
        if (!a.strings.empty())
          os << '"' << a.strings[i] << '"';
        else if (!a.ints.empty())
          os << a.ints[i];
        else if (!a.floats.empty())
          os << a.floats[i];
        else if (!a.bools.empty())
          os << (a.bools[i] ? "true" : "false");
        else
          os << "[...]";
      }
      if (a.size() > n) os << ", ...";
      os << "]";
      return os.str();
    }
    default:
      if (const auto* u = std::get_if<uint64_t>(&v.v)) return std::to_string(*u);
      return std::to_string(std::get<int64_t>(v.v));
  }
}

}  // namespace minima
