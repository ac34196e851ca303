#include "train/bpe_vocab.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "model/gguf/writer.hpp"

namespace minima::train {

namespace {

constexpr int32_t kTypeNormal = 1;
constexpr int32_t kTypeControl = 3;

int32_t find_token(const BpeVocab& v, std::string_view text) {
  const auto it = std::find(v.tokens.begin(), v.tokens.end(), text);
  return it == v.tokens.end() ? -1 : static_cast<int32_t>(it - v.tokens.begin());
}

void check_id(const BpeVocab& v, int32_t id, std::string_view what) {
  if (id < 0 || id >= v.size()) {
    fail("BPE vocabulary '", v.name, "': ", what, " id ", id, " is outside [0, ", v.size(), ")");
  }
}

const GgufArray& array_of(const GgufFile& f, std::string_view key, GgufType elem) {
  const GgufArray* a = f.get_array(key);
  if (a == nullptr) fail(f.name(), ": metadata '", key, "' is missing");
  const bool is_int = elem != GgufType::String;
  if (is_int ? a->ints.size() != a->size() : a->elem_type != GgufType::String) {
    fail(f.name(), ": metadata '", key, "': expected an array of ", is_int ? "integers" : "strings",
         ", found ", gguf_type_name(a->elem_type));
  }
  return *a;
}

int32_t id_of(const GgufFile& f, std::string_view key) {
  const auto v = f.get_int(key);
  if (!v) fail(f.name(), ": metadata '", key, "' is missing");
  return static_cast<int32_t>(*v);
}

}  // namespace

// Our own ChatML template: one <|im_start|>ROLE\nCONTENT<|im_end|>\n block per message.
const std::string_view kChatmlTemplate =
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

void append_bpe_specials(BpeVocab& v) {
  for (const std::string_view s : kBpeSpecialTokens) {
    if (const int32_t id = find_token(v, s); id >= 0) {
      fail("BPE vocabulary '", v.name, "': special token ", s, " is already token ", id);
    }
    v.tokens.emplace_back(s);
    v.token_types.push_back(kTypeControl);
  }
  v.bos_id = find_token(v, kBpeSpecialTokens[0]);
  v.pad_id = v.bos_id;
  v.eos_id = find_token(v, kBpeSpecialTokens[2]);
}

void write_bpe_tokenizer_metadata(GgufWriter& w, const BpeVocab& v) {
  if (v.tokens.size() != v.token_types.size()) {
    fail("BPE vocabulary '", v.name, "': ", v.tokens.size(), " tokens but ", v.token_types.size(),
         " token types");
  }
  check_id(v, v.bos_id, "bos");
  check_id(v, v.eos_id, "eos");
  check_id(v, v.pad_id, "padding");
  w.set_string("general.name", v.name);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_array("tokenizer.ggml.tokens", GgufWriter::strings(v.tokens));
  w.set_array("tokenizer.ggml.token_type",
              GgufWriter::ints(std::vector<int64_t>(v.token_types.begin(), v.token_types.end())));
  w.set_array("tokenizer.ggml.merges", GgufWriter::strings(v.merges));
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos_id));
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos_id));
  w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(v.pad_id));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  w.set_string("tokenizer.chat_template", std::string(kChatmlTemplate));
}

BpeVocab read_bpe_vocab(const GgufFile& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  if (model != "gpt2") {
    fail(f.name(), ": metadata 'tokenizer.ggml.model' is '", model.value_or("(missing)"),
         "', expected 'gpt2' (a byte-level BPE vocabulary)");
  }
  BpeVocab v;
  v.name = f.get_string("general.name").value_or("");
  v.tokens = array_of(f, "tokenizer.ggml.tokens", GgufType::String).strings;
  const GgufArray& types = array_of(f, "tokenizer.ggml.token_type", GgufType::I32);
  v.token_types.assign(types.ints.begin(), types.ints.end());
  v.merges = array_of(f, "tokenizer.ggml.merges", GgufType::String).strings;
  v.bos_id = id_of(f, "tokenizer.ggml.bos_token_id");
  v.eos_id = id_of(f, "tokenizer.ggml.eos_token_id");
  v.pad_id = static_cast<int32_t>(f.get_int("tokenizer.ggml.padding_token_id").value_or(v.bos_id));
  if (v.tokens.size() != v.token_types.size()) {
    fail(f.name(), ": metadata 'tokenizer.ggml.token_type' has ", v.token_types.size(),
         " entries for ", v.tokens.size(), " tokens");
  }
  for (const auto& [id, what] :
       {std::pair{v.bos_id, "bos"}, {v.eos_id, "eos"}, {v.pad_id, "padding"}}) {
    if (id < 0 || id >= v.size()) {
      fail(f.name(), ": metadata 'tokenizer.ggml.", what, "_token_id' = ", id,
           " is outside the vocabulary [0, ", v.size(), ")");
    }
  }
  return v;
}

}  // namespace minima::train
