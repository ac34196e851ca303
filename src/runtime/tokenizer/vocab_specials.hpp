// Load-time resolution of special tokens, following llama.cpp: ids from the tokenizer.ggml.*_id
// keys over per-model defaults, EOT/EOM/FIM tokens found by their text (and forced to CONTROL),
// the end-of-generation set, the strip flags some models need, the list of tokens matched in text
// before tokenisation, and each token's piece.
#pragma once

#include "runtime/tokenizer/vocab.hpp"

namespace minima::tok {

// `no_bos`: the pre-tokenizer family has no BOS (chatglm). Throws Error naming the key when
// add_bos/add_eos is set but the matching id is missing.
void resolve_specials(const GgufFile& f, Vocab& v, bool no_bos);

}  // namespace minima::tok
