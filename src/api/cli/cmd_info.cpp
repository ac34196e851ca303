// minima info: what a GGUF file holds — architecture and sizes, per-tensor types, tokenizer,
// chat template present or not. Works on vocabulary-only files too.
#include <cstdio>
#include <map>
#include <sstream>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/model.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima::cli {
namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", b, units[u]);
  return buf;
}

}  // namespace

int cmd_info(int argc, char** argv, int first) {
  ArgParser p(
      "info",
      "Describe a GGUF model: architecture, sizes, tensor types, tokenizer, chat template.");
  p.flag("--brief", "only the summary (no per-tensor list)")
      .flag("--metadata", "list every metadata key");
  // The model path is positional: minima info MODEL.
  if (first >= argc) fail("usage: minima info MODEL [--brief] [--metadata]");
  const std::string path = argv[first];
  if (path == "--help" || path == "-h") {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (!p.parse(argc, argv, first + 1)) return 0;

  std::ostringstream os;
  const GgufFile f = GgufFile::open(path);
  os << "file:            " << path << " (GGUF v" << f.version() << ", "
     << human_bytes(double(f.file_size())) << ")\n";
  const auto arch = f.get_string("general.architecture");
  os << "architecture:    " << arch.value_or("(none)");
  if (arch && !find_arch(*arch))
    os << "  [not supported; supported: " << supported_arch_names() << "]";
  os << "\n";
  if (auto name = f.get_string("general.name")) os << "name:            " << *name << "\n";

  if (!f.tensors().empty() && arch && find_arch(*arch)) {
    const Model m = Model::load(path, FileLoad::Map);
    const HParams& h = m.hparams();
    os << "parameters:      " << m.n_params() << "\n"
       << "layers:          " << h.n_layer << "\n"
       << "embedding:       " << h.n_embd << "\n"
       << "heads:           " << h.n_head << " (kv " << h.n_head_kv << ", head size " << h.head_dim
       << ")\n"
       << "feed-forward:    " << h.n_ff << "\n"
       << "vocabulary:      " << h.n_vocab << "\n"
       << "context (train): " << h.n_ctx_train << "\n"
       << "rope:            " << (m.arch().rope == RopeStyle::Norm ? "normal" : "neox") << ", base "
       << h.rope_base << ", dims " << h.n_rot
       << (h.rope_freq_scale != 1.0f ? ", linear scale " + std::to_string(h.rope_freq_scale) : "")
       << (m.rope_freq_factors().empty() ? "" : ", frequency factors") << "\n"
       << "rms eps:         " << h.rms_eps << "\n"
       << "output:          " << (m.tied_output() ? "tied to token_embd" : "output.weight") << "\n";
  }

  std::map<std::string, std::pair<int, uint64_t>> by_type;
  for (const auto& t : f.tensors()) {
    auto& e = by_type[std::string(type_info(t.type).name)];
    ++e.first;
    e.second += t.nbytes;
  }
  os << "tensors:         " << f.tensors().size();
  for (const auto& [name, e] : by_type)
    os << "  " << name << ": " << e.first << " (" << human_bytes(double(e.second)) << ")";
  os << "\n";

  if (f.find("tokenizer.ggml.model")) {
    const Tokenizer tok = Tokenizer::from_gguf(f);
    os << "tokenizer:       " << tok.model_name() << " (pre: " << tok.pre_name() << "), "
       << tok.n_vocab() << " tokens, bos " << tok.bos() << (tok.add_bos() ? " (added)" : "")
       << ", eos " << tok.eos() << "\n";
  } else {
    os << "tokenizer:       (none)\n";
  }
  const auto tmpl = f.get_string("tokenizer.chat_template");
  os << "chat template:   "
     << (tmpl ? "present (" + std::to_string(tmpl->size()) + " chars)" : "absent") << "\n";

  if (p.get_flag("--metadata")) {
    os << "\nmetadata:\n";
    for (const auto& [k, v] : f.metadata())
      os << "  " << k << " = " << gguf_value_to_string(v) << "\n";
  }
  if (!p.get_flag("--brief") && !f.tensors().empty()) {
    os << "\ntensors:\n";
    for (const auto& t : f.tensors())
      os << "  " << t.name << "  " << type_info(t.type).name << "  " << t.shape_string() << "  "
         << human_bytes(double(t.nbytes)) << "\n";
  }
  const std::string s = os.str();
  std::fwrite(s.data(), 1, s.size(), stdout);
  return 0;
}

}  // namespace minima::cli
