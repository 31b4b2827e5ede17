// The human-readable form of a DeployPlan (`mixq plan` without --json).
#pragma once
#include <string>

#include "plan/deployment_plan.h"

namespace mixq {

// mixq_serve_exists: this build has `mixq serve`; else its line is labelled as planned.
std::string format_plan_report(const DeployPlan& p, bool mixq_serve_exists = true);

}  // namespace mixq
