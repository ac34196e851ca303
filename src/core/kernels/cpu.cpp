// CPU feature detection. AVX2 counts only with FMA and F16C (every AVX2 kernel uses them) and
// with the OS saving the YMM state (XCR0 bits 1–2, read by XGETBV once CPUID says OSXSAVE).
// Avx512 means F+BW+DQ+VL+VNNI with the OS saving opmask and ZMM state (XCR0 bits 5–7) on top of
// Avx2: every CPU with AVX-512 since Cascade Lake / Zen 4 has VNNI, and the integer GEMM needs it,
// so the few without it (Skylake-X) run the AVX2 set.
#include <cstdlib>

#include "core/error.hpp"
#include "core/kernels/kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace minima {
namespace {

struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C + OS YMM state
  bool avx512 = false;  // avx2 + AVX512 F/BW/DQ/VL/VNNI + OS ZMM state
  bool vbmi = false;    // avx512 + AVX512_VBMI
  bool bf16 = false;    // avx512 + AVX512_BF16
};

CpuFeatures read_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(1, 0, a, b, c, d);
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
             f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return f;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_ymm = (xcr0_lo & 0x6u) == 0x6u;
  const bool os_zmm = (xcr0_lo & 0xE6u) == 0xE6u;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = (b >> 5) & 1;
  const bool avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) &&
                      ((c >> 11) & 1);  // ecx bit 11: AVX512_VNNI
  f.avx2 = avx2 && fma && f16c && os_ymm;
  f.avx512 = f.avx2 && avx512 && os_zmm;
  f.vbmi = f.avx512 && ((c >> 1) & 1);  // ecx bit 1: AVX512_VBMI
  if (a >= 1) {                           // leaf 7 subleaf 1, eax bit 5: AVX512_BF16
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    f.bf16 = f.avx512 && ((a1 >> 5) & 1);
  }
#endif
  return f;
}

const CpuFeatures& features() {
  static const CpuFeatures f = read_features();  // immutable after first use
  return f;
}

Isa best_isa() {
  if (features().avx512) return Isa::Avx512;
  if (features().avx2) return Isa::Avx2;
  return Isa::Scalar;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "unknown";
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::Avx2:
      return features().avx2;
    case Isa::Avx512:
      return features().avx512;
  }
  return false;
}

bool cpu_has_avx512_vbmi() { return features().vbmi; }
bool cpu_has_avx512_bf16() { return features().bf16; }

Isa resolve_isa(std::string_view request, Isa best) {
  if (request.empty()) return best;
  Isa want;
  if (request == "scalar") {
    want = Isa::Scalar;
  } else if (request == "avx2") {
    want = Isa::Avx2;
  } else if (request == "avx512") {
    want = Isa::Avx512;
  } else {
    fail("MINIMA_CPU='", request, "' is not one of scalar, avx2, avx512");
  }
  if (static_cast<int>(want) > static_cast<int>(best)) {
    fail("MINIMA_CPU=", request, " asks for more than this CPU supports (best: ", isa_name(best),
         ")");
  }
  return want;
}

Isa detect_isa() {
  const char* env = std::getenv("MINIMA_CPU");
  return resolve_isa(env != nullptr ? std::string_view(env) : std::string_view(), best_isa());
}

}  // namespace minima
