// Writes a small seed corpus for gguf_fuzz: valid GGUF files with every metadata type, nested
// arrays, several tensor types and a custom alignment, so mutations start from deep inside the
// format instead of from random bytes.
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "model/gguf/writer.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gguf_seed_gen DIR\n");
    return 2;
  }
  using namespace minima;
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  try {
    for (int variant = 0; variant < 3; ++variant) {
      GgufWriter w(variant == 2 ? 64 : 32);
      w.set_string("general.architecture", "llama");
      w.set_u32("llama.block_count", 1);
      w.set_f32("llama.rope.freq_base", 10000.0f);
      w.set_bool("flag", true);
      w.set("i8", {GgufType::I8, int64_t(-3)});
      w.set("u16", {GgufType::U16, uint64_t(7)});
      w.set("i64", {GgufType::I64, int64_t(-1) << 40});
      w.set("f64", {GgufType::F64, 2.5});
      w.set_array("tokenizer.ggml.tokens", GgufWriter::strings({"<unk>", "<s>", "</s>", "a", "b"}));
      w.set_array("tokenizer.ggml.scores", GgufWriter::floats({0, 0, 0, -1, -2}));
      w.set_array("ints", GgufWriter::ints({1, 2, 3}, GgufType::U8));
      GgufArray nested;
      nested.elem_type = GgufType::Array;
      nested.arrays = {GgufWriter::ints({4, 5}), GgufWriter::strings({"x"})};
      w.set_array("nested", nested);
      if (variant >= 1) {
        w.add_tensor("a", DType::F32, {4, 2}, [](std::span<uint8_t> o) {
          for (auto& b : o) b = 0x3f;
        });
        w.add_tensor("b", DType::Q8_0, {32, 1}, [](std::span<uint8_t> o) {
          for (auto& b : o) b = 1;
        });
        w.add_tensor("c", DType::Q4_K, {256}, [](std::span<uint8_t> o) {
          for (auto& b : o) b = 2;
        });
      }
      w.write(dir / ("seed" + std::to_string(variant) + ".gguf"));
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
