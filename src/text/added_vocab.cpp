#include "text/added_vocab.h"

#include "text/unicode.h"
#include "text/utf8.h"

namespace mixq::text {

void TokenMatcher::add(const std::string& s, int index) {
  if (s.empty()) return;
  int n = 0;
  for (unsigned char c : s) {
    int nx = -1;
    for (auto& [ch, to] : nodes_[n].next) if (ch == c) { nx = to; break; }
    if (nx < 0) {
      nx = static_cast<int>(nodes_.size());
      nodes_[n].next.emplace_back(c, nx);
      nodes_.emplace_back();
    }
    n = nx;
  }
  if (nodes_[n].index < 0) nodes_[n].index = index;  // first added wins on duplicates
  first_[static_cast<unsigned char>(s[0])] = true;
}

int TokenMatcher::longest_at(std::string_view s, size_t pos, size_t& len) const {
  if (!first_[static_cast<unsigned char>(s[pos])]) return -1;
  int n = 0, best = -1;
  for (size_t i = pos; i < s.size(); ++i) {
    int nx = -1;
    unsigned char c = s[i];
    for (auto& [ch, to] : nodes_[n].next) if (ch == c) { nx = to; break; }
    if (nx < 0) break;
    n = nx;
    if (nodes_[n].index >= 0) { best = nodes_[n].index; len = i + 1 - pos; }
  }
  return best;
}

void AddedVocab::add(AddedToken t) {
  by_id_.insert_or_assign(t.id, tokens_.size());
  by_content_.insert_or_assign(t.content, tokens_.size());
  tokens_.push_back(std::move(t));
}

const AddedToken* AddedVocab::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocab::by_content(std::string_view c) const {
  auto it = by_content_.find(std::string(c));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

namespace {
char32_t last_char(std::string_view s) {
  size_t st = s.size() - 1;
  while (st > 0 && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80) --st;
  return utf8_next(s, st);
}
}  // namespace

void AddedVocab::split(std::string_view s, bool normalized_set, std::vector<Segment>& out) const {
  const TokenMatcher& m = normalized_set ? norm_ : raw_;
  if (m.empty() || s.empty()) {
    if (!s.empty()) out.push_back({-1, std::string(s)});
    return;
  }
  size_t start_offset = 0;  // end of the last emitted piece
  size_t pos = 0;
  while (pos < s.size()) {
    size_t len = 0;
    int idx = m.longest_at(s, pos, len);
    if (idx < 0) { ++pos; continue; }
    const AddedToken& t = tokens_[idx];
    size_t st = pos, en = pos + len;
    pos = en;  // a rejected match is consumed, as in the Aho-Corasick iterator HF uses
    if (t.single_word) {
      bool start_ok = st == 0 || !is_alphanumeric(last_char(s.substr(0, st)));
      size_t k = en;
      bool stop_ok = en == s.size() || !is_alphanumeric(utf8_next(s, k));
      if (!start_ok || !stop_ok) continue;
    }
    if (t.lstrip) {
      size_t ns = st;
      while (ns > start_offset) {
        size_t b = ns - 1;
        while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
        size_t k = b;
        if (!is_whitespace(utf8_next(s, k))) break;
        ns = b;
      }
      st = ns;
    }
    if (t.rstrip) {
      while (en < s.size()) {
        size_t k = en;
        if (!is_whitespace(utf8_next(s, k))) break;
        en = k;
      }
      pos = en;
    }
    if (start_offset < st) out.push_back({-1, std::string(s.substr(start_offset, st - start_offset))});
    out.push_back({t.id, std::string(s.substr(st, en - st))});
    start_offset = en;
  }
  if (start_offset < s.size()) out.push_back({-1, std::string(s.substr(start_offset))});
}

}  // namespace mixq::text
