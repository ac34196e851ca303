#include "train/export.hpp"

#include <cstring>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "core/quant/types.hpp"
#include "model/gguf/writer.hpp"

namespace minima::train {

void export_gguf(const ModelConfig& c, const Layout& layout, const float* params,
                 const GgufFile& tokenizer, const ExportOptions& o, const std::filesystem::path& out) {
  DType wt;
  uint32_t file_type;
  if (o.type == "F32") {
    wt = DType::F32, file_type = 0;
  } else if (o.type == "F16") {
    wt = DType::F16, file_type = 1;
  } else if (o.type == "Q8_0") {
    wt = DType::Q8_0, file_type = 7;
  } else {
    fail("export: type must be F32, F16 or Q8_0, got ", o.type);
  }
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", o.name);
  w.set_u32("general.file_type", file_type);
  w.set_u32("general.quantization_version", 2);
  w.set_u32("llama.context_length", uint32_t(c.n_ctx));
  w.set_u32("llama.embedding_length", uint32_t(c.n_embd));
  w.set_u32("llama.block_count", uint32_t(c.n_layer));
  w.set_u32("llama.feed_forward_length", uint32_t(c.n_ff));
  w.set_u32("llama.attention.head_count", uint32_t(c.n_head));
  w.set_u32("llama.attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_f32("llama.attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_f32("llama.rope.freq_base", c.rope_base);
  w.set_u32("llama.rope.dimension_count", uint32_t(c.head_dim()));
  if (c.head_dim() * c.n_head != c.n_embd) {
    w.set_u32("llama.attention.key_length", uint32_t(c.head_dim()));
    w.set_u32("llama.attention.value_length", uint32_t(c.head_dim()));
  }
  w.set_u32("llama.vocab_size", uint32_t(c.n_vocab));
  bool has_tokens = false;
  for (const auto& [key, value] : tokenizer.metadata()) {
    if (!key.starts_with("tokenizer.")) continue;
    w.set(key, value);
    has_tokens |= key == "tokenizer.ggml.tokens";
  }
  if (!has_tokens) fail("export: ", tokenizer.name(), " has no tokenizer.ggml.tokens");
  for (const ParamTensor& p : layout.tensors) {
    // Matrices whose rows fit the block take the type; vectors and odd rows stay F32.
    const DType t = p.ne1 > 1 && p.ne0 % type_info(wt).block_size == 0 ? wt : DType::F32;
    const float* src = params + p.offset;
    w.add_tensor(p.name, t, p.ne1 > 1 ? std::vector<int64_t>{p.ne0, p.ne1} : std::vector<int64_t>{p.ne0},
                 [=](std::span<uint8_t> dst) {
                   const size_t rs = row_size(t, p.ne0);
                   for (int64_t r = 0; r < p.ne1; ++r)
                     quant::quantize_row_ref(t, src + r * p.ne0, dst.data() + size_t(r) * rs, p.ne0);
                 });
  }
  w.write(out);
}

}  // namespace minima::train
