// ISA selection: MINIMA_CPU lowers the choice, never raises it; scalar is always allowed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/kernels/kernels.hpp"

namespace minima {
namespace {

// Sets MINIMA_CPU for one scope and restores the previous value (tests in this binary run
// sequentially, so the process environment is ours while the guard lives).
class EnvGuard {
 public:
  explicit EnvGuard(const char* value) {
    if (const char* old = std::getenv("MINIMA_CPU")) old_ = old;
    if (value) {
      setenv("MINIMA_CPU", value, 1);
    } else {
      unsetenv("MINIMA_CPU");
    }
  }
  ~EnvGuard() {
    if (old_) {
      setenv("MINIMA_CPU", old_->c_str(), 1);
    } else {
      unsetenv("MINIMA_CPU");
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::optional<std::string> old_;
};

Isa best() {
  if (cpu_supports(Isa::Avx512)) return Isa::Avx512;
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

TEST(Cpu, ScalarAlwaysSupported) {
  EXPECT_TRUE(cpu_supports(Isa::Scalar));
  if (cpu_supports(Isa::Avx512)) {
    EXPECT_TRUE(cpu_supports(Isa::Avx2));
  }
}

TEST(Cpu, DetectHonoursMinimaCpu) {
  {
    EnvGuard g(nullptr);
    EXPECT_EQ(detect_isa(), best());
  }
  {
    EnvGuard g("");
    EXPECT_EQ(detect_isa(), best());
  }
  {
    EnvGuard g("scalar");
    EXPECT_EQ(detect_isa(), Isa::Scalar);
  }
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    const std::string name(isa_name(isa));
    EnvGuard g(name.c_str());
    if (cpu_supports(isa)) {
      EXPECT_EQ(detect_isa(), isa);
    } else {
      EXPECT_THROW(detect_isa(), Error) << name;
    }
  }
  {
    EnvGuard g("sse9");
    EXPECT_THROW(detect_isa(), Error);
  }
}

TEST(Cpu, ResolveIsa) {
  EXPECT_EQ(resolve_isa("", Isa::Avx2), Isa::Avx2);
  EXPECT_EQ(resolve_isa("scalar", Isa::Scalar), Isa::Scalar);
  EXPECT_EQ(resolve_isa("avx2", Isa::Avx512), Isa::Avx2);
  EXPECT_EQ(resolve_isa("avx512", Isa::Avx512), Isa::Avx512);
  EXPECT_THROW(resolve_isa("avx2", Isa::Scalar), Error);
  EXPECT_THROW(resolve_isa("avx512", Isa::Avx2), Error);
  EXPECT_THROW(resolve_isa("AVX2", Isa::Avx2), Error);
  try {
    resolve_isa("avx512", Isa::Avx2);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("avx512"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("avx2"), std::string::npos);
  }
}

TEST(Cpu, KernelsForRefusesUnsupportedIsa) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) {
      EXPECT_THROW(kernels_for(isa), Error);
    }
  }
  EXPECT_EQ(kernels_for(Isa::Scalar).isa, Isa::Scalar);
}

}  // namespace
}  // namespace minima
