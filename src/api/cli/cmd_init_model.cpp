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
      .opt("--seed", "", "N", "weight seed (default 1)")
      .opt("--layers", "", "N",
           "number of blocks (default: the preset's; tensor shapes stay the preset's)")
      .opt("--dist", "", "D",
           "weight distribution: normal (default) or student-t (3 degrees of "
           "freedom: heavy tails, for quantizer tests)");
  add_compute_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  const std::string preset = p.required("--preset");
  auto shape = model_preset(preset);
  if (!shape)
    fail("minima init-model: unknown preset '", preset, "' (known: ", model_preset_names(), ")");
  shape->n_layer = p.get_int("--layers", shape->n_layer, 1, 1024);
  const std::string type = p.get("--type").value_or("F16");
  const auto recipe = parse_quant_recipe(type);
  if (!recipe)
    fail("minima init-model: unknown type '", type, "' (known: ", quant_recipe_names(), ")");
  const std::string out = p.required("--out");
  const auto seed = static_cast<uint64_t>(p.get_int("--seed", 1, 0, INT64_MAX));
  const std::string dist_name = p.get("--dist").value_or("normal");
  if (dist_name != "normal" && dist_name != "student-t")
    fail("minima init-model: --dist must be normal or student-t, not '", dist_name, "'");
  const WeightDist dist = dist_name == "normal" ? WeightDist::Normal : WeightDist::StudentT3;
  Compute c = make_compute(p);
  write_random_model(*shape, *recipe, seed, out, *c.pool, dist);
  std::printf("wrote %s: %s, %s, random %s weights (seed %llu)\n", out.c_str(), shape->name.c_str(),
              recipe->name.c_str(), dist_name.c_str(), static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace minima::cli
