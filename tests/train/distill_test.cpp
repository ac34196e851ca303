// minima distill on a real teacher (stories260K) and a student pruned from it to about half its
// parameters: an interrupted run resumed from its checkpoint ends bit for bit where an
// uninterrupted one does, and distillation brings the student's distributions closer to the
// teacher's (lower KL on held-out text).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/kernels/kernels.hpp"
#include "model/forward.hpp"
#include "model/prune.hpp"
#include "runtime/eval/text_eval.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/stories_teacher.hpp"
#include "support/test_support.hpp"
#include "train/distill.hpp"
#include "train/shard.hpp"

namespace minima::train {
namespace {

namespace fs = std::filesystem;

fs::path teacher_path() {
  return test::stories_teacher_path();
}

struct KdSetup {
  fs::path dir, student, data;
};

// A student at ~50% of the teacher (pruned on calibration.txt), and a shard of calibration.txt.
KdSetup make_setup(const Model& teacher) {
  KdSetup s;
  s.dir = test::temp_dir("distill");
  ThreadPool pool(2);
  const PruneImportance imp = test::calibrate(teacher, pool);
  const auto calib = test::data_tokens(teacher, "calibration.txt");
  const HParams& hp = teacher.hparams();
  s.student = s.dir / "student.gguf";
  write_pruned(teacher, plan_pruning(teacher, imp, {hp.n_layer, 3, 120, 48}), DType::F32,
               s.student);
  s.data = s.dir / "train.tok";
  write_token_shard(s.data, uint32_t(hp.n_vocab), calib);
  return s;
}

DistillOptions options(const KdSetup& s, const std::string& tag, int64_t steps) {
  DistillOptions o;
  o.teacher = teacher_path();
  o.student = s.student;
  o.data = s.data;
  o.out = s.dir / (tag + ".gguf");
  o.checkpoint_dir = s.dir / (tag + "-ckpt");
  o.batch = 2;
  o.n_ctx = 64;
  o.opt.steps = steps;
  o.opt.lr = 3e-3f;
  o.opt.min_lr = 3e-4f;
  o.opt.warmup = 2;
  o.kd.top_k = 32;
  o.threads = 2;
  o.progress_bar = false;
  o.log = [](const std::string&) {};
  return o;
}

TEST(Distill, ResumesBitIdentically) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const Model teacher = Model::load(teacher_path());
  const KdSetup s = make_setup(teacher);
  const KernelSet& ks = kernels_for(detect_isa());
  const auto straight = distill(options(s, "straight", 6), ks);
  ASSERT_TRUE(straight.exported);

  auto first = options(s, "resumed", 6);
  first.stop_after = 3;
  const auto a = distill(first, ks);
  EXPECT_FALSE(a.exported);
  auto second = options(s, "resumed", 6);
  second.resume = true;
  const auto b = distill(second, ks);
  ASSERT_TRUE(b.exported);
  ASSERT_EQ(b.steps_done, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.losses[size_t(i)], straight.losses[size_t(3 + i)]);

  const GgufFile x = GgufFile::open(s.dir / "straight.gguf"),
                 y = GgufFile::open(s.dir / "resumed.gguf");
  ASSERT_EQ(x.tensors().size(), y.tensors().size());
  for (const auto& t : x.tensors()) {
    const GgufTensorInfo* u = y.find_tensor(t.name);
    ASSERT_NE(u, nullptr);
    ASSERT_EQ(u->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
}

TEST(Distill, BringsTheStudentCloserToTheTeacher) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const Model teacher = Model::load(teacher_path());
  const KdSetup s = make_setup(teacher);
  auto o = options(s, "kd", 40);
  o.checkpoint_dir.clear();
  const auto r = distill(o, kernels_for(detect_isa()));
  ASSERT_TRUE(r.exported);
  const double before = test::kl_to_teacher(teacher, s.student),
               after = test::kl_to_teacher(teacher, o.out);
  EXPECT_LT(after, 0.8 * before) << before << " -> " << after;
}

}  // namespace
}  // namespace minima::train
