// compressed-tensors target/ignore matching (compressed-tensors-awq.md §1.7), with RE2:
//   "re:<pattern>"  Python re.match: anchored at the start, NOT at the end (so "re:.*gate" also
//                   matches "...experts.0.gate_proj"; recipes anchor with "$").
//   otherwise       exact module name, or the module's class name (e.g. "Linear").
// A module is matched when a target matches and no ignore entry matches (ignore wins).
// RE2 rejects what Python's re accepts but RE2 cannot do in linear time (look-around,
// back-references, possessive quantifiers); such patterns are InputErrors naming the pattern.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace re2 { class RE2; }

namespace mixq {

class TargetPattern {
 public:
  TargetPattern(const std::string& target, const std::string& where);  // InputError if the regex fails
  ~TargetPattern();
  TargetPattern(TargetPattern&&) noexcept;
  TargetPattern& operator=(TargetPattern&&) noexcept;
  bool is_regex() const { return regex_ != nullptr; }
  const std::string& text() const { return text_; }
  bool matches_name(const std::string& name) const;
  // Name or class name; class names are exact as in compressed-tensors' _match_class.
  bool matches(const std::string& name, const std::string& class_name) const;

 private:
  std::string text_;
  std::unique_ptr<re2::RE2> regex_;
};

class TargetSet {
 public:
  TargetSet() = default;
  TargetSet(const std::vector<std::string>& targets, const std::string& where);
  // Index of the first matching pattern, -1 if none.
  int first_match(const std::string& name, const std::string& class_name) const;
  bool any(const std::string& name, const std::string& class_name) const { return first_match(name, class_name) >= 0; }
  const std::vector<TargetPattern>& patterns() const { return patterns_; }

 private:
  std::vector<TargetPattern> patterns_;
};

// The class names compressed-tensors would see for MiniMax-M2 modules.
inline const char* kLinearClass = "Linear";

}  // namespace mixq
