#include "quant/target_match.h"

#include <re2/re2.h>

#include "util/error.h"

namespace mixq {

TargetPattern::TargetPattern(const std::string& target, const std::string& where) : text_(target) {
  if (target.rfind("re:", 0) == 0) {
    std::string pat = target.substr(3);
    RE2::Options o;
    o.set_log_errors(false);
    regex_ = std::make_unique<re2::RE2>(pat, o);
    if (!regex_->ok())
      fail("{}: regex '{}' does not compile with RE2 ({}); RE2 has no look-around or back-references", where, pat, regex_->error());
  } else if (target.empty()) {
    fail("{}: empty target", where);
  }
}
TargetPattern::~TargetPattern() = default;
TargetPattern::TargetPattern(TargetPattern&&) noexcept = default;
TargetPattern& TargetPattern::operator=(TargetPattern&&) noexcept = default;

bool TargetPattern::matches_name(const std::string& name) const {
  if (!regex_) return name == text_;
  // Python re.match: anchored at the start only.
  return regex_->Match(name, 0, name.size(), RE2::ANCHOR_START, nullptr, 0);
}

bool TargetPattern::matches(const std::string& name, const std::string& class_name) const {
  if (matches_name(name)) return true;
  return !regex_ && !class_name.empty() && text_ == class_name;
}

TargetSet::TargetSet(const std::vector<std::string>& targets, const std::string& where) {
  for (const auto& t : targets) patterns_.emplace_back(t, where);
}

int TargetSet::first_match(const std::string& name, const std::string& class_name) const {
  for (size_t i = 0; i < patterns_.size(); ++i)
    if (patterns_[i].matches(name, class_name)) return int(i);
  return -1;
}

}  // namespace mixq
