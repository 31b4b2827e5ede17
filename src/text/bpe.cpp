#include "text/bpe.h"

#include <fmt/format.h>

#include <queue>

#include "text/utf8.h"
#include "util/error.h"

namespace mixq::text {

Bpe::Bpe(const nlohmann::json& model) {
  if (model.value("type", "BPE") != "BPE")
    fail("tokenizer.json: model type '{}' is not supported (only BPE)", model.value("type", ""));
  const auto& v = model.at("vocab");
  vocab_.reserve(v.size());
  int32_t max_id = -1;
  for (auto it = v.begin(); it != v.end(); ++it) {
    int32_t id = it.value().get<int32_t>();
    vocab_.emplace(it.key(), id);
    max_id = std::max(max_id, id);
  }
  id_to_tok_.resize(max_id + 1);
  has_id_.assign(max_id + 1, false);
  for (auto& [tok, id] : vocab_) {
    id_to_tok_[id] = tok;
    has_id_[id] = true;
  }
  auto lookup = [&](const std::string& t) {
    auto it = vocab_.find(t);
    if (it == vocab_.end()) fail("tokenizer.json: merge token '{}' is not in the vocab", t);
    return it->second;
  };
  const std::string prefix =
      model.contains("continuing_subword_prefix") && model["continuing_subword_prefix"].is_string()
          ? model["continuing_subword_prefix"].get<std::string>() : "";
  int32_t rank = 0;
  const auto& ms = model.at("merges");
  merges_.reserve(ms.size() * 2);
  for (const auto& m : ms) {
    std::string a, b;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t sp = s.find(' ', 1);  // the first character of a token is never the separator
      if (sp == std::string::npos) fail("tokenizer.json: merge '{}' has no space", s);
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      fail("tokenizer.json: merge #{} is neither \"a b\" nor [\"a\", \"b\"]", rank);
    }
    int32_t ia = lookup(a), ib = lookup(b);
    // The merged token drops the continuation prefix of its right part (HF does the same).
    std::string merged = a + (b.rfind(prefix, 0) == 0 ? b.substr(prefix.size()) : b);
    int32_t im = lookup(merged);
    // A repeated pair keeps its last rank, as HF's HashMap collect does.
    merges_.insert_or_assign((static_cast<uint64_t>(ia) << 32) | static_cast<uint32_t>(ib),
                             std::make_pair(rank, im));
    ++rank;
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab_.find(model["unk_token"].get<std::string>());
    if (it != vocab_.end()) unk_ = it->second;
  }
  auto str_or_empty = [&](const char* k) {
    return model.contains(k) && model[k].is_string() ? model[k].get<std::string>() : std::string();
  };
  continuing_prefix_ = str_or_empty("continuing_subword_prefix");
  end_suffix_ = str_or_empty("end_of_word_suffix");
  fuse_unk_ = model.value("fuse_unk", false);
  byte_fallback_ = model.value("byte_fallback", false);
  ignore_merges_ = model.value("ignore_merges", false);
}

std::optional<int32_t> Bpe::token_to_id(std::string_view tok) const {
  auto it = vocab_.find(tok);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* Bpe::id_to_token(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(id_to_tok_.size()) || !has_id_[id]) return nullptr;
  return &id_to_tok_[id];
}

void Bpe::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  {
    std::lock_guard<std::mutex> lk(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lk(cache_mu_);
  if (cache_.size() >= kCacheMax) cache_.clear();
  cache_.emplace(std::string(word), std::move(ids));
}

void Bpe::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) { out.push_back(it->second); return; }
  }
  // Symbols form a doubly linked list; len == 0 marks one merged away.
  struct Sym { int32_t id; int prev, next; size_t len; };
  std::vector<Sym> syms;
  syms.reserve(word.size());
  bool last_unk = false;
  std::string buf;
  for (size_t i = 0; i < word.size();) {
    size_t st = i;
    i += utf8_seq_len(static_cast<unsigned char>(word[i]));
    if (i > word.size()) i = word.size();
    buf.clear();
    if (st > 0) buf += continuing_prefix_;
    buf.append(word.substr(st, i - st));
    if (i == word.size()) buf += end_suffix_;
    auto push = [&](int32_t id, size_t len) {
      int n = static_cast<int>(syms.size());
      syms.push_back({id, n - 1, n + 1, len});
    };
    auto it = vocab_.find(buf);
    if (it != vocab_.end()) { push(it->second, i - st); last_unk = false; continue; }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (size_t k = st; k < i; ++k) {
        auto bt = vocab_.find(fmt::format("<0x{:02X}>", static_cast<unsigned char>(word[k])));
        if (bt == vocab_.end()) { bytes.clear(); break; }
        bytes.push_back(bt->second);
      }
      if (!bytes.empty()) {
        for (int32_t b : bytes) push(b, 1);
        last_unk = false;
        continue;
      }
    }
    if (unk_) {
      if (fuse_unk_ && last_unk) syms.back().len += i - st;
      else push(*unk_, i - st);
      last_unk = true;
    }
    // Without an unk token HF silently drops the character.
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  struct Cand { int32_t rank; int pos; int32_t id; };
  auto worse = [](const Cand& a, const Cand& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> q(worse);
  auto pair_key = [](int32_t a, int32_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
  };
  for (size_t k = 0; k + 1 < syms.size(); ++k) {
    auto it = merges_.find(pair_key(syms[k].id, syms[k + 1].id));
    if (it != merges_.end()) q.push({it->second.first, static_cast<int>(k), it->second.second});
  }
  while (!q.empty()) {
    Cand c = q.top();
    q.pop();
    Sym& cur = syms[c.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    Sym& right = syms[cur.next];
    auto it = merges_.find(pair_key(cur.id, right.id));
    if (it == merges_.end() || it->second.second != c.id) continue;  // stale candidate
    cur.id = c.id;
    cur.len += right.len;
    right.len = 0;
    cur.next = right.next;
    if (cur.next >= 0) syms[cur.next].prev = c.pos;
    if (cur.prev >= 0) {
      auto p = merges_.find(pair_key(syms[cur.prev].id, cur.id));
      if (p != merges_.end()) q.push({p->second.first, cur.prev, p->second.second});
    }
    if (cur.next >= 0) {
      auto n = merges_.find(pair_key(cur.id, syms[cur.next].id));
      if (n != merges_.end()) q.push({n->second.first, c.pos, n->second.second});
    }
  }
  for (int k = 0; k >= 0; k = syms[k].next) out.push_back(syms[k].id);
}

}  // namespace mixq::text
