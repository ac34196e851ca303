// minima: command-line entry point. Dispatches to one file per verb; every user-facing error ends
// here as one line on stderr and a non-zero exit code.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "api/cli/commands.hpp"
#include "core/error.hpp"

namespace {

constexpr const char* kUsage =
    "usage: minima <command> [options]   (minima <command> --help for its options)\n"
    "\n"
    "commands:\n"
    "  serve      OpenAI-compatible HTTP server (chat, completions, streaming, metrics)\n"
    "  run        chat with a model in the terminal (default: the built-in minima-mini)\n"
    "  info       describe a GGUF model: architecture, sizes, tensor types, tokenizer\n"
    "  tokenize   print the token ids of a text as a JSON array\n"
    "  generate   stream a completion of a prompt to stdout\n"
    "  logits     write the logits of every prompt position (conformance format)\n"
    "  bench      measure prefill and decode speed (llama-bench compatible JSON), or the machine's "
    "peaks\n"
    "  init-model write a random-weight model of a real shape (tinyllama-1.1b, qwen2.5-0.5b, "
    "...)\n"
    "  train      train a model from a recipe (TOML) and export it as GGUF\n"
    "  tokenizer-train  train a byte-level BPE tokenizer on corpus files (GGUF vocabulary)\n"
    "  perplexity perplexity of a model on a text or token shard (and KL to a base model)\n"
    "  quantize   quantize a model's weights (Q4_0 ... Q6_K, Q4_K_M ...), with an importance "
    "matrix\n"
    "  imatrix    importance matrix from calibration text, for quantize --imatrix\n"
    "  tensor-diff  compare two models' tensors: relative RMSE, identical bytes\n"
    "  prune      prune a model to a target size by activation importance (depth, heads, FFN, "
    "width)\n"
    "  distill    train a student on a teacher's distributions (KD: fkl, rkl, mixed)\n"
    "  compare    compare models on a text: size, perplexity, agreement, KL, speed\n"
    "  convert    convert a Hugging Face checkpoint (Llama, Qwen2, Qwen3 safetensors) to GGUF\n"
    "  data       prepare training data: data prepare tokenizes a corpus into token shards\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view verb = argv[1];
  try {
    using namespace minima::cli;
    if (verb == "info") return cmd_info(argc, argv, 2);
    if (verb == "tokenize") return cmd_tokenize(argc, argv, 2);
    if (verb == "generate") return cmd_generate(argc, argv, 2);
    if (verb == "logits") return cmd_logits(argc, argv, 2);
    if (verb == "bench") return cmd_bench(argc, argv, 2);
    if (verb == "serve") return cmd_serve(argc, argv, 2);
    if (verb == "init-model") return cmd_init_model(argc, argv, 2);
    if (verb == "train") return cmd_train(argc, argv, 2);
    if (verb == "run") return cmd_run(argc, argv, 2);
    if (verb == "tokenizer-train") return cmd_tokenizer_train(argc, argv, 2);
    if (verb == "data") return cmd_data(argc, argv, 2);
    if (verb == "perplexity") return cmd_perplexity(argc, argv, 2);
    if (verb == "quantize") return cmd_quantize(argc, argv, 2);
    if (verb == "imatrix") return cmd_imatrix(argc, argv, 2);
    if (verb == "tensor-diff") return cmd_tensor_diff(argc, argv, 2);
    if (verb == "convert") return cmd_convert(argc, argv, 2);
    if (verb == "prune") return cmd_prune(argc, argv, 2);
    if (verb == "compare") return cmd_compare(argc, argv, 2);
    if (verb == "distill") return cmd_distill(argc, argv, 2);
    std::fprintf(stderr, "minima: unknown command '%s'\n\n%s", argv[1], kUsage);
    return 2;
  } catch (const minima::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    return 1;
  }
}
