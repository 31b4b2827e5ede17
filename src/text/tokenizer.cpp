#include "text/tokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "text/bpe.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::text {

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

namespace {

// Reads the single-sequence part of a post-processor into ids before / after the text.
void read_post_processor(const nlohmann::json& j, std::vector<int32_t>& pre,
                         std::vector<int32_t>& post) {
  if (j.is_null()) return;
  std::string t = j.value("type", "");
  if (t == "Sequence") {
    for (auto& p : j.at("processors")) read_post_processor(p, pre, post);
    return;
  }
  if (t == "ByteLevel") return;  // only adjusts offsets
  if (t == "TemplateProcessing") {
    const auto& specials = j.at("special_tokens");
    bool seen_seq = false;
    for (auto& piece : j.at("single")) {
      if (piece.contains("Sequence")) { seen_seq = true; continue; }
      if (!piece.contains("SpecialToken"))
        fail("tokenizer.json: TemplateProcessing piece is neither Sequence nor SpecialToken");
      std::string name = piece["SpecialToken"].at("id").get<std::string>();
      if (!specials.contains(name))
        fail("tokenizer.json: TemplateProcessing names unknown special token '{}'", name);
      for (auto& id : specials[name].at("ids")) (seen_seq ? post : pre).push_back(id.get<int32_t>());
    }
    return;
  }
  if (t == "BertProcessing" || t == "RobertaProcessing") {
    pre.push_back(j.at("cls").at(1).get<int32_t>());
    post.push_back(j.at("sep").at(1).get<int32_t>());
    return;
  }
  fail("tokenizer.json: unsupported post_processor type '{}'", t);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_json_text(std::string_view text, const std::string& what) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", what, e.what());
  }
  std::unique_ptr<Tokenizer> tk(new Tokenizer());
  try {
    tk->normalizer_ = make_normalizer(j.value("normalizer", nlohmann::json()));
    tk->pre_ = make_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()));
    tk->model_ = std::make_unique<Bpe>(j.at("model"));
    tk->decoder_ = make_decoder(j.value("decoder", nlohmann::json()));
    for (auto& a : j.value("added_tokens", nlohmann::json::array())) {
      AddedToken t;
      t.id = a.at("id").get<int32_t>();
      t.content = a.at("content").get<std::string>();
      t.special = a.value("special", false);
      t.normalized = a.value("normalized", !t.special);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.single_word = a.value("single_word", false);
      tk->added_.add(std::move(t));
    }
    read_post_processor(j.value("post_processor", nlohmann::json()), tk->prefix_ids_, tk->suffix_ids_);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed tokenizer.json: {}", what, e.what());
  } catch (const InputError& e) {
    fail("{}: {}", what, e.what());
  }
  const Normalizer* n = tk->normalizer_.get();
  tk->added_.build([n](const std::string& s) { return n ? n->normalize(s) : s; });
  return tk;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  if (fs::is_directory(p)) p /= "tokenizer.json";
  if (!fs::exists(p)) fail("{}: no such tokenizer.json", p.string());
  return from_json_text(read_file(p.string()), p.string());
}

void Tokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Segment> raw;
  added_.split(text, false, raw);
  const EmitFn to_model = [&](std::string_view w) { model_->tokenize(w, out); };
  for (auto& seg : raw) {
    if (seg.id >= 0) { out.push_back(seg.id); continue; }
    std::string norm = normalizer_ ? normalizer_->normalize(seg.text) : std::move(seg.text);
    std::vector<Segment> segs;
    added_.split(norm, true, segs);
    for (auto& s : segs) {
      if (s.id >= 0) { out.push_back(s.id); continue; }
      if (pre_) pre_->stream(s.text, to_model);
      else model_->tokenize(s.text, out);
    }
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> out;
  if (add_special_tokens) out = prefix_ids_;
  if (utf8_valid(text)) encode_text(text, out);
  else encode_text(utf8_sanitize(text), out);
  if (add_special_tokens) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view tok) const {
  if (auto* a = added_.by_content(tok)) return a->id;
  return model_->token_to_id(tok);
}

const std::string* Tokenizer::id_to_token(int32_t id) const {
  if (auto* a = added_.by_id(id)) return &a->content;
  return model_->id_to_token(id);
}

bool Tokenizer::is_special(int32_t id) const {
  auto* a = added_.by_id(id);
  return a && a->special;
}

size_t Tokenizer::vocab_size() const {
  size_t n = model_->vocab_size();
  for (auto& a : added_.tokens()) n = std::max(n, static_cast<size_t>(a.id) + 1);
  return n;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* t = id_to_token(id);
    if (!t) continue;  // unknown ids are dropped, as HF does
    if (skip_special_tokens && is_special(id)) continue;
    toks.push_back(*t);
  }
  if (!decoder_) {
    std::string out;
    for (size_t k = 0; k < toks.size(); ++k) out += (k ? " " : "") + toks[k];
    return out;
  }
  std::string out;
  for (auto& s : decoder_->decode_chain(std::move(toks))) out += s;
  return out;
}

}  // namespace mixq::text
