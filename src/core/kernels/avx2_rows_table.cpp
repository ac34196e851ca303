// The AVX2 multi-row dot entries: dedicated kernels where a type has one (avx2_rows_*.cpp), the
// single-row AVX2 dot row by row otherwise (Q4_1, Q5_1, Q2_K, Q3_K: absent from the files we
// target; their per-row results are grouping-independent all the same).
#include "core/kernels/avx2_rows.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

namespace minima::avx2 {

void put_dot_rows(std::array<DotRowsFn, kDTypeCount>& table) {
  const auto put = [&](DType t, DotRowsFn fn) { table[static_cast<uint32_t>(t)] = fn; };
  put(DType::F32, rows_by_dot<dot_f32>);
  put(DType::F16, rows_by_dot<dot_f16>);
  put(DType::BF16, rows_by_dot<dot_bf16>);
  put(DType::Q4_0, dot_rows_q4_0);
  put(DType::Q4_1, rows_by_dot<dot_q4_1>);
  put(DType::Q5_0, dot_rows_q5_0);
  put(DType::Q5_1, rows_by_dot<dot_q5_1>);
  put(DType::Q8_0, dot_rows_q8_0);
  put(DType::Q2_K, rows_by_dot<dot_q2_k>);
  put(DType::Q3_K, rows_by_dot<dot_q3_k>);
  put(DType::Q4_K, dot_rows_q4_k);
  put(DType::Q5_K, dot_rows_q5_k);
  put(DType::Q6_K, dot_rows_q6_k);
}

void put_dot_rows_multi(std::array<DotRowsMultiFn, kDTypeCount>& table) {
  table[static_cast<uint32_t>(DType::Q4_0)] = dot_rows_multi_q4_0;
  table[static_cast<uint32_t>(DType::Q5_0)] = dot_rows_multi_q5_0;
  table[static_cast<uint32_t>(DType::Q8_0)] = dot_rows_multi_q8_0;
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
