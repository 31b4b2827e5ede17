// Human-readable rendering of a QuantPlan (the `mixq quantize --dry-run` table).
#pragma once
#include "util/number_format.h"  // with_commas
#include <string>

#include "quant/quant_plan.h"

namespace mixq {

std::string format_plan(const QuantPlan& p, size_t max_unmatched_listed = 24);

}  // namespace mixq
