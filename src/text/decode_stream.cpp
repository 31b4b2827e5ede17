#include "text/decode_stream.h"

#include "text/tokenizer.h"

namespace mixq::text {

namespace {
bool ends_with_replacement(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}
}  // namespace

std::string DecodeStream::step(int32_t id) {
  if (prefix_.empty() && !ids_.empty()) {
    std::string p = tk_.decode(ids_, skip_);
    if (!ends_with_replacement(p)) {
      prefix_ = std::move(p);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  std::string s = tk_.decode(ids_, skip_);
  if (s.size() > prefix_.size() && !ends_with_replacement(s) && s.compare(0, prefix_.size(), prefix_) == 0) {
    std::string out = s.substr(prefix_.size());
    // Keep only the ids after the old prefix as the new window.
    size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = tk_.decode(ids_, skip_);
    prefix_index_ = new_prefix_index;
    return out;
  }
  return "";
}

std::string DecodeStream::flush() {
  std::string s = tk_.decode(ids_, skip_);
  std::string out = s.size() > prefix_.size() && s.compare(0, prefix_.size(), prefix_) == 0 ? s.substr(prefix_.size()) : "";
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return out;
}

}  // namespace mixq::text
