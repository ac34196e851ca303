// GGUF reader/writer: round trips of every metadata type, and one test per validation rule with a
// hand-built hostile file, checking that the error names the file and the offending field.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "model/gguf/writer.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

// Builds GGUF bytes field by field, so each test can break exactly one thing.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof v);
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return put<uint32_t>(0x46554747)
        .put<uint32_t>(version)
        .put<uint64_t>(n_tensors)
        .put<uint64_t>(n_kv);
  }
  Bytes& kv_u32(const std::string& k, uint32_t v) {
    return str(k).put<uint32_t>(4).put<uint32_t>(v);
  }
  Bytes& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) put<int64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Bytes& pad(size_t align) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  std::vector<uint8_t> b;
};

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    GgufFile::parse(bytes, "test.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_REJECTS(bytes, ...)                                                  \
  do {                                                                              \
    const std::string _m = parse_error(bytes);                                      \
    ASSERT_FALSE(_m.empty()) << "accepted a corrupt file";                          \
    EXPECT_NE(_m.find("test.gguf"), std::string::npos) << _m;                       \
    for (const char* _s : {__VA_ARGS__})                                            \
      EXPECT_NE(_m.find(_s), std::string::npos) << "'" << _s << "' not in: " << _m; \
  } while (0)

TEST(Gguf, RoundTripEveryMetadataTypeAndTensors) {
  const auto dir = test::temp_dir("gguf");
  GgufWriter w(64);
  w.set_string("general.architecture", "llama");
  w.set("u8", {GgufType::U8, uint64_t(200)});
  w.set("i8", {GgufType::I8, int64_t(-100)});
  w.set("u16", {GgufType::U16, uint64_t(60000)});
  w.set("i16", {GgufType::I16, int64_t(-30000)});
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -2000000000);
  w.set_u64("u64", 1ull << 60);
  w.set("i64", {GgufType::I64, -(int64_t(1) << 60)});
  w.set_f32("f32", 0.25f);
  w.set("f64", {GgufType::F64, 1e300});
  w.set_bool("bool", true);
  w.set_array("strs", GgufWriter::strings({"a", "", "ü"}));
  w.set_array("floats", GgufWriter::floats({1.5, -2}));
  w.set_array("i16s", GgufWriter::ints({-1, 2}, GgufType::I16));
  GgufArray bools;
  bools.elem_type = GgufType::Bool;
  bools.bools = {1, 0, 1};
  w.set_array("bools", bools);
  GgufArray nested;
  nested.elem_type = GgufType::Array;
  nested.arrays = {GgufWriter::ints({7}), GgufWriter::strings({"x", "y"})};
  w.set_array("nested", nested);
  w.add_tensor("t.f32", DType::F32, {3, 2}, [](std::span<uint8_t> o) {
    const float v[6] = {1, 2, 3, 4, 5, 6};
    std::memcpy(o.data(), v, sizeof v);
  });
  w.add_tensor("t.q8", DType::Q8_0, {64},
               [](std::span<uint8_t> o) { std::memset(o.data(), 7, o.size()); });
  w.write(dir / "a.gguf");

  const GgufFile f = GgufFile::open(dir / "a.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(*f.get_string("general.architecture"), "llama");
  EXPECT_EQ(*f.get_int("u8"), 200);
  EXPECT_EQ(*f.get_int("i8"), -100);
  EXPECT_EQ(*f.get_int("u16"), 60000);
  EXPECT_EQ(*f.get_int("i16"), -30000);
  EXPECT_EQ(*f.get_u32("u32"), 4000000000u);
  EXPECT_EQ(*f.get_int("i32"), -2000000000);
  EXPECT_EQ(*f.get_int("u64"), int64_t(1) << 60);
  EXPECT_EQ(*f.get_int("i64"), -(int64_t(1) << 60));
  EXPECT_EQ(*f.get_float("f32"), 0.25);
  EXPECT_EQ(*f.get_float("f64"), 1e300);
  EXPECT_TRUE(*f.get_bool("bool"));
  EXPECT_EQ(f.get_array("strs")->strings, (std::vector<std::string>{"a", "", "ü"}));
  EXPECT_EQ(f.get_array("floats")->floats, (std::vector<double>{1.5, -2}));
  EXPECT_EQ(f.get_array("i16s")->ints, (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(f.get_array("bools")->bools, (std::vector<uint8_t>{1, 0, 1}));
  const GgufArray* n = f.get_array("nested");
  ASSERT_EQ(n->arrays.size(), 2u);
  EXPECT_EQ(n->arrays[0].ints, std::vector<int64_t>{7});
  EXPECT_EQ(n->arrays[1].strings, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(f.get_string("missing").has_value());

  const GgufTensorInfo* t = f.find_tensor("t.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape_string(), "[3, 2]");
  EXPECT_EQ(t->nbytes, 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % 64, 0u);  // the map is page aligned
  EXPECT_EQ(reinterpret_cast<const float*>(t->data)[5], 6.0f);
  const GgufTensorInfo* q = f.find_tensor("t.q8");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->nbytes, 68u);
  EXPECT_EQ(q->offset % 64, 0u);
  EXPECT_EQ(q->data[67], 7);
  std::filesystem::remove_all(dir);
}

TEST(Gguf, TypedGettersNameTheKeyOnMismatch) {
  const auto b = Bytes().header(0, 2).kv_u32("k.int", 5).str("k.str").put<uint32_t>(8).str("hi").b;
  const GgufFile f = GgufFile::parse(b, "test.gguf");
  try {
    (void)f.get_string("k.int");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k.int"), std::string::npos);
  }
  EXPECT_THROW((void)f.get_int("k.str"), Error);
  EXPECT_THROW((void)f.get_array("k.int"), Error);
}

TEST(Gguf, AcceptsVocabOnlyFileAndV2) {
  EXPECT_EQ(GgufFile::parse(Bytes().header(0, 1).kv_u32("a", 1).b, "v.gguf").tensors().size(), 0u);
  EXPECT_EQ(GgufFile::parse(Bytes().header(0, 0, 2).b, "v.gguf").version(), 2u);
}

TEST(GgufCorrupt, BadMagic) {
  EXPECT_REJECTS(Bytes().put<uint32_t>(0x12345678).put<uint32_t>(3).b, "magic", "not a GGUF file");
  EXPECT_REJECTS(Bytes().put<uint32_t>(0x47475546).put<uint32_t>(3).b, "magic", "big-endian");
}

TEST(GgufCorrupt, Version) {
  EXPECT_REJECTS(Bytes().header(0, 0, 1).b, "version", "v1");
  EXPECT_REJECTS(Bytes().header(0, 0, 99).b, "version", "99");
}

TEST(GgufCorrupt, EveryTruncationIsAnError) {
  // A valid file with metadata, two tensors and data; every strict prefix must be rejected.
  const auto dir = test::temp_dir("gguf-trunc");
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_array("tokens", GgufWriter::strings({"a", "bc"}));
  w.add_tensor("x", DType::F32, {8},
               [](std::span<uint8_t> o) { std::memset(o.data(), 1, o.size()); });
  w.add_tensor("y", DType::Q4_0, {32, 2},
               [](std::span<uint8_t> o) { std::memset(o.data(), 2, o.size()); });
  w.write(dir / "t.gguf");
  std::ifstream in(dir / "t.gguf", std::ios::binary);
  const std::vector<uint8_t> all((std::istreambuf_iterator<char>(in)), {});
  const GgufFile ok = GgufFile::parse(all, "test.gguf");
  // Only the padding after the last tensor may be cut; every cut before the end of its data must
  // fail (inside the header: for the field it splits; inside the data: past the end).
  size_t data_end = 0;
  for (const auto& t : ok.tensors())
    data_end = std::max<size_t>(data_end, ok.data_offset() + t.offset + t.nbytes);
  ASSERT_LE(data_end, all.size());
  for (size_t n = 0; n < data_end; ++n) {
    const std::vector<uint8_t> cut(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string m = parse_error(cut);
    ASSERT_FALSE(m.empty()) << "prefix of " << n << " bytes accepted";
  }
  std::filesystem::remove_all(dir);
}

TEST(GgufCorrupt, AbsurdCounts) {
  EXPECT_REJECTS(Bytes().header(uint64_t(1) << 62, 0).b, "tensor_count", "impossible");
  EXPECT_REJECTS(Bytes().header(0, uint64_t(1) << 62).b, "metadata_kv_count", "impossible");
  // A string length far past the end of the file.
  EXPECT_REJECTS(Bytes().header(0, 1).put<uint64_t>(uint64_t(1) << 40).zeros(16).b, "key",
                 "exceeds");
  // An array claiming 2^40 u32 elements.
  EXPECT_REJECTS(Bytes()
                     .header(0, 1)
                     .str("arr")
                     .put<uint32_t>(9)
                     .put<uint32_t>(4)
                     .put<uint64_t>(uint64_t(1) << 40)
                     .zeros(8)
                     .b,
                 "arr", "array length", "impossible");
}

TEST(GgufCorrupt, BadValueTypes) {
  EXPECT_REJECTS(Bytes().header(0, 1).str("k").put<uint32_t>(77).b, "'k'", "unknown value type 77");
  EXPECT_REJECTS(
      Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(55).put<uint64_t>(0).b, "'k'",
      "unknown array element type 55");
  EXPECT_REJECTS(Bytes().header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2).b, "'k'", "bool");
  EXPECT_REJECTS(Bytes().header(0, 2).kv_u32("k", 1).kv_u32("k", 2).b, "'k'", "duplicate key");
  EXPECT_REJECTS(Bytes().header(0, 1).str("").put<uint32_t>(4).put<uint32_t>(1).b, "empty key");
}

TEST(GgufCorrupt, DeeplyNestedArrays) {
  Bytes b;
  b.header(0, 1).str("deep").put<uint32_t>(9);
  for (int i = 0; i < 20; ++i) b.put<uint32_t>(9).put<uint64_t>(1);
  b.put<uint32_t>(4).put<uint64_t>(0);
  EXPECT_REJECTS(b.b, "deep", "nested");
}

TEST(GgufCorrupt, Alignment) {
  EXPECT_REJECTS(Bytes().header(0, 1).kv_u32("general.alignment", 48).b, "general.alignment",
                 "power of two");
  EXPECT_REJECTS(Bytes().header(0, 1).kv_u32("general.alignment", 0).b, "general.alignment");
  EXPECT_REJECTS(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(8).str("x").b,
                 "general.alignment", "u32");
}

TEST(GgufCorrupt, TensorInfoChecks) {
  auto one = [](const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t off,
                size_t data) {
    Bytes b;
    b.header(1, 0).tensor(name, std::move(ne), type, off).pad(32).zeros(data);
    return b.b;
  };
  EXPECT_REJECTS(one("w", {4}, 0, 0, 16 - 1), "'w'", "past the end");
  EXPECT_REJECTS(one("w", {4}, 0, 64, 32), "'w'", "past the end");
  EXPECT_REJECTS(one("w", {4}, 0, 3, 64), "'w'", "offset 3", "alignment");
  EXPECT_REJECTS(one("w", {4}, 16, 0, 64), "'w'", "IQ2_XXS", "not supported");
  EXPECT_REJECTS(one("w", {4}, 1234, 0, 64), "'w'", "1234", "not supported");
  EXPECT_REJECTS(one("w", {4, -2}, 0, 0, 64), "'w'", "negative dimension");
  EXPECT_REJECTS(one("w", {int64_t(1) << 40, int64_t(1) << 40}, 0, 0, 64), "'w'", "overflows");
  EXPECT_REJECTS(one("w", {int64_t(1) << 61, 2}, 0, 0, 64), "'w'", "overflow");
  EXPECT_REJECTS(one("w", {48}, 2, 0, 64), "'w'", "not a multiple", "Q4_0");
  Bytes five;
  five.header(1, 0).str("w").put<uint32_t>(5);
  for (int i = 0; i < 5; ++i) five.put<int64_t>(1);
  five.put<uint32_t>(0).put<uint64_t>(0).pad(32).zeros(32);
  EXPECT_REJECTS(five.b, "'w'", "n_dims 5");
  Bytes dup;
  dup.header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad(32).zeros(64);
  EXPECT_REJECTS(dup.b, "'w'", "duplicate tensor");
}

TEST(GgufCorrupt, MissingFileNamesThePath) {
  try {
    GgufFile::open("/nonexistent/dir/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
  const auto dir = test::temp_dir("gguf-dir");
  EXPECT_THROW(GgufFile::open(dir), Error);  // a directory is not a model
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace minima
