// minima train: train a llama-architecture model from a recipe (train/recipe.hpp), with a progress
// line, periodic evaluation and checkpoints, --resume, and a GGUF export at the end.
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "train/trainer.hpp"

namespace minima::cli {

int cmd_train(int argc, char** argv, int first) {
  ArgParser p("train", "Train a model from a recipe (TOML) and export it as GGUF.");
  p.opt("--config", "-c", "FILE", "the recipe (see recipes/minima-mini.toml)")
      .flag("--resume", "continue from the newest checkpoint in the recipe's checkpoint_dir")
      .opt("--stop-after", "", "N", "stop once N steps are done (checkpoint, no export)")
      .opt("--threads", "-t", "N", "threads (default: the recipe's, else every core)")
      .flag("--no-progress", "log lines instead of redrawing a progress bar");
  if (!p.parse(argc, argv, first)) return 0;
  const train::Recipe recipe = train::load_recipe(p.required("--config"));
  train::TrainOptions o;
  o.resume = p.get_flag("--resume");
  o.stop_after = p.get_int("--stop-after", -1, 0, INT64_MAX);
  o.threads = int(p.get_int("--threads", 0, 1, 1024));
  o.progress_bar = !p.get_flag("--no-progress");
  const train::TrainSummary s = train::train(recipe, kernels_for(detect_isa()), o);
  if (s.exported) std::printf("%s\n", recipe.out.string().c_str());
  return 0;
}

}  // namespace minima::cli
