// minima init-model: a random-weight GGUF of a real published shape in any supported type, so
// benchmarks (and later training) need no downloads. llama.cpp loads the same file.
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/random_model.hpp"

namespace minima::cli {

int cmd_init_model(int argc, char** argv, int first) {
  ArgParser p("init-model", "Write a random-weight model of a real shape as GGUF.");
  p.opt("--preset", "", "NAME", "model shape: " + model_preset_names())
      .opt("--type", "", "T", "weight type: " + quant_recipe_names() + " (default F16)")
      .opt("--out", "-o", "FILE", "output GGUF path")
      .opt("--seed", "", "N", "weight seed (default 1)");
  add_compute_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  const std::string preset = p.required("--preset");
  const auto shape = model_preset(preset);
  if (!shape)
    fail("minima init-model: unknown preset '", preset, "' (known: ", model_preset_names(), ")");
  const std::string type = p.get("--type").value_or("F16");
  const auto recipe = parse_quant_recipe(type);
  if (!recipe)
    fail("minima init-model: unknown type '", type, "' (known: ", quant_recipe_names(), ")");
  const std::string out = p.required("--out");
  const auto seed = static_cast<uint64_t>(p.get_int("--seed", 1, 0, INT64_MAX));
  Compute c = make_compute(p);
  write_random_model(*shape, *recipe, seed, out, *c.pool);
  std::printf("wrote %s: %s, %s, random weights (seed %llu)\n", out.c_str(), shape->name.c_str(),
              recipe->name.c_str(), static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace minima::cli
