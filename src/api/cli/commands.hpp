// The CLI verbs. Each takes the full argv and the index of its first own argument, returns the
// process exit code, and throws minima::Error for anything the user can fix (main prints it).
#pragma once

namespace minima::cli {

int cmd_info(int argc, char** argv, int first);
int cmd_tokenize(int argc, char** argv, int first);
int cmd_generate(int argc, char** argv, int first);
int cmd_logits(int argc, char** argv, int first);
int cmd_init_model(int argc, char** argv, int first);
int cmd_bench(int argc, char** argv, int first);
int cmd_serve(int argc, char** argv, int first);
int cmd_train(int argc, char** argv, int first);
int cmd_run(int argc, char** argv, int first);
int cmd_tokenizer_train(int argc, char** argv, int first);
int cmd_data(int argc, char** argv, int first);
int cmd_perplexity(int argc, char** argv, int first);
int cmd_quantize(int argc, char** argv, int first);
int cmd_imatrix(int argc, char** argv, int first);
int cmd_tensor_diff(int argc, char** argv, int first);
int cmd_convert(int argc, char** argv, int first);
int cmd_prune(int argc, char** argv, int first);
int cmd_compare(int argc, char** argv, int first);
int cmd_distill(int argc, char** argv, int first);

}  // namespace minima::cli
