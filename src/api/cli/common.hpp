// What several verbs share: the compute context (kernels + threads) built from --threads.
#pragma once

#include <memory>
#include <string>

#include "api/cli/args.hpp"
#include "core/kernels/kernels.hpp"
#include "core/mapped_file.hpp"
#include "core/threads.hpp"

namespace minima::cli {

struct Compute {
  const KernelSet* kernels;
  std::unique_ptr<ThreadPool> pool;
};

// Adds --threads to a parser.
void add_compute_options(ArgParser& p);
Compute make_compute(const ArgParser& p);

// Adds --mmap (map the model file instead of reading it into huge-page memory), and the choice.
void add_load_options(ArgParser& p);
FileLoad file_load(const ArgParser& p);

// The model a verb runs: --model when given, else minima's built-in model minima-mini, looked up
// as $MINIMA_MODEL, then models/minima-mini.gguf of the source tree the binary was built in
// (build/<preset>/bin/../../../models), then <prefix>/share/minima/minima-mini.gguf beside an
// installed binary. Error naming the places looked at when none exists.
std::string model_path(const ArgParser& p);

// The exact bytes of a file; Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace minima::cli
