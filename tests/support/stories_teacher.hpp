// stories260K as a teacher for the pruning and distillation tests: the texts of tests/model/data
// tokenized, activation importance from calibration.txt, and a student's KL to the teacher on
// stories.txt (held out from the calibration).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "model/forward.hpp"
#include "model/prune.hpp"
#include "runtime/eval/text_eval.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"

namespace minima::test {

inline std::filesystem::path stories_teacher_path() {
  return shared_dir() / "conformance" / "models" / "stories260K-F32.gguf";
}

inline std::vector<int32_t> data_tokens(const Model& m, const std::string& file) {
  std::ifstream in(std::string(MINIMA_SOURCE_DIR) + "/tests/model/data/" + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return Tokenizer::from_gguf(m.file()).encode(text, true, false);
}

inline PruneImportance calibrate(const Model& m, ThreadPool& pool) {
  return measure_importance(m, data_tokens(m, "calibration.txt"), 128, kernels_for(detect_isa()),
                            pool);
}

inline double kl_to_teacher(const Model& teacher, const std::filesystem::path& student) {
  ThreadPool pool(2);
  const Model s = Model::load(student);
  TextEvalOptions o;
  o.ctx = 128;
  o.bos = 1;
  return evaluate_text(s, &teacher, data_tokens(teacher, "stories.txt"), o,
                       kernels_for(detect_isa()), pool)
      .kl_mean;
}

}  // namespace minima::test
