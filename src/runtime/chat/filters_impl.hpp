// Shared pieces of the filter implementations (filters.cpp, filters_str.cpp, filters_seq.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/chat/interp.hpp"
#include "runtime/chat/value.hpp"

namespace minima::jinja::filters {

// Jinja's soft_str: strings (Markup included) pass through, anything else becomes str(value).
Value soft_str(Interp& in, const Value& v);
// Python float()/int() of a string (whitespace, underscores, signs, inf/nan as Python allows).
std::optional<double> parse_float(std::string_view s);
std::optional<int64_t> parse_int(std::string_view s, int base);

// Jinja's make_attrgetter: "a.b.0" looked up with subscript semantics; `fallback` replaces an
// Undefined at any step; `lower` lower-cases string results (case-insensitive comparisons).
class AttrGetter {
 public:
  AttrGetter(const Value& attribute, std::optional<Value> fallback = std::nullopt,
             bool lower = false);
  Value operator()(Interp& in, const Value& item) const;
  bool empty() const { return parts_.empty(); }

 private:
  std::vector<Value> parts_;
  std::optional<Value> fallback_;
  bool lower_;
};

// Stable merge sort with a comparator that may throw (Python's sorted() is stable too); safe
// with inconsistent comparators, unlike std::stable_sort.
void stable_sort(List& items, const std::function<bool(const Value&, const Value&)>& less);

Value lower_if_string(const Value& v);

// A Python generator returned by a lazy filter: runs `produce` now and hands its items out once.
// An error `produce` raises is kept for the consumer (LimitErrors propagate at once).
Value generator(const char* name, const std::function<void(List&)>& produce,
                const char* type = "generator");

// String filters (filters_str.cpp).
Value capitalize(Interp&, const Value&, CallArgs&);
Value center(Interp&, const Value&, CallArgs&);
Value escape(Interp&, const Value&, CallArgs&);
Value forceescape(Interp&, const Value&, CallArgs&);
Value format(Interp&, const Value&, CallArgs&);
Value indent(Interp&, const Value&, CallArgs&);
Value lower(Interp&, const Value&, CallArgs&);
Value replace(Interp&, const Value&, CallArgs&);
Value safe(Interp&, const Value&, CallArgs&);
Value string(Interp&, const Value&, CallArgs&);
Value striptags(Interp&, const Value&, CallArgs&);
Value title(Interp&, const Value&, CallArgs&);
Value trim(Interp&, const Value&, CallArgs&);
Value truncate(Interp&, const Value&, CallArgs&);
Value upper(Interp&, const Value&, CallArgs&);
Value wordcount(Interp&, const Value&, CallArgs&);

// Sequence filters (filters_seq.cpp).
Value batch(Interp&, const Value&, CallArgs&);
Value dictsort(Interp&, const Value&, CallArgs&);
Value first(Interp&, const Value&, CallArgs&);
Value groupby(Interp&, const Value&, CallArgs&);
Value items(Interp&, const Value&, CallArgs&);
Value join(Interp&, const Value&, CallArgs&);
Value last(Interp&, const Value&, CallArgs&);
Value length(Interp&, const Value&, CallArgs&);
Value list(Interp&, const Value&, CallArgs&);
Value map(Interp&, const Value&, CallArgs&);
Value max(Interp&, const Value&, CallArgs&);
Value min(Interp&, const Value&, CallArgs&);
Value reject(Interp&, const Value&, CallArgs&);
Value rejectattr(Interp&, const Value&, CallArgs&);
Value reverse(Interp&, const Value&, CallArgs&);
Value select(Interp&, const Value&, CallArgs&);
Value selectattr(Interp&, const Value&, CallArgs&);
Value slice(Interp&, const Value&, CallArgs&);
Value sort(Interp&, const Value&, CallArgs&);
Value sum(Interp&, const Value&, CallArgs&);
Value unique(Interp&, const Value&, CallArgs&);

}  // namespace minima::jinja::filters
