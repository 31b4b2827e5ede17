// The human-readable form of a DeployPlan (`mixq plan` without --json).
#pragma once
#include <string>

#include "plan/deployment_plan.h"

namespace mixq {

std::string format_plan_report(const DeployPlan& p);

}  // namespace mixq
