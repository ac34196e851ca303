// minima tokenize: the token ids of a text as a JSON array on stdout.
#include <cstdio>
#include <string>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima::cli {

int cmd_tokenize(int argc, char** argv, int first) {
  ArgParser p("tokenize", "Print the token ids of a text as a JSON array.");
  p.opt("--model", "-m", "FILE", "GGUF model or vocabulary file")
      .opt("--text", "", "TEXT", "text to tokenize")
      .opt("--file", "-f", "FILE", "tokenize the exact bytes of this file")
      .opt("--add-special", "", "0|1", "add BOS/EOS as the vocabulary says (default 1)")
      .opt("--parse-special", "", "0|1", "match special tokens written in the text (default 0)");
  if (!p.parse(argc, argv, first)) return 0;
  if (p.has("--text") == p.has("--file"))
    fail("minima tokenize: give exactly one of --text or --file");
  const std::string text = p.has("--text") ? *p.get("--text") : read_file(*p.get("--file"));
  const bool add_special = p.get_int("--add-special", 1, 0, 1) != 0;
  const bool parse_special = p.get_int("--parse-special", 0, 0, 1) != 0;

  const GgufFile f = GgufFile::open(p.required("--model"));
  const Tokenizer tok = Tokenizer::from_gguf(f);
  const std::vector<int32_t> ids = tok.encode(text, add_special, parse_special);
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace minima::cli
