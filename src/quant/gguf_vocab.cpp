#include "quant/gguf_vocab.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq::gguf {

namespace {

using nlohmann::json;

json load_json(const std::string& path) {
  auto j = json::parse(read_file(path), nullptr, false);
  if (j.is_discarded()) fail("{}: not valid JSON", path);
  return j;
}

// tokenizer_config.json spells a special token as a string or {"content": ...}.
std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

VocabSummary add_vocab_metadata(Writer& w, const std::string& dir, int64_t vocab_size) {
  const std::string tpath = dir + "/tokenizer.json";
  if (!file_exists(tpath)) fail("{}: no tokenizer.json: llama.cpp needs the vocabulary in the GGUF", dir);
  json tj = load_json(tpath);
  if (!tj.contains("model") || !tj["model"].is_object() || tj["model"].value("type", "") != "BPE")
    fail("{}: model.type must be \"BPE\" (byte-level BPE, llama.cpp's gpt2 vocabulary)", tpath);
  const json& m = tj["model"];
  if (!m.contains("vocab") || !m["vocab"].is_object()) fail("{}: model.vocab missing", tpath);

  VocabSummary s;
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<int32_t> types(static_cast<size_t>(vocab_size), 5);
  std::vector<bool> seen(static_cast<size_t>(vocab_size), false);
  std::map<std::string, int64_t> id_of;
  auto place = [&](const std::string& text, const json& idv, int32_t type, const char* where) {
    if (!idv.is_number_integer()) fail("{}: {} '{}' has no integer id", tpath, where, text);
    int64_t id = idv.get<int64_t>();
    if (id < 0 || id >= vocab_size)
      fail("{}: {} '{}' has id {}, outside the model's vocabulary of {} (config.json vocab_size)", tpath, where, text, id, vocab_size);
    tokens[size_t(id)] = text;
    types[size_t(id)] = type;
    seen[size_t(id)] = true;
    id_of[text] = id;
  };
  for (const auto& [text, id] : m["vocab"].items()) place(text, id, 1, "model.vocab token");
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array())
    for (const auto& a : tj["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string()) fail("{}: added_tokens entry without content", tpath);
      place(a["content"].get<std::string>(), a.value("id", json()), a.value("special", false) ? 3 : 4, "added token");
      ++s.added;
    }
  for (int64_t i = 0; i < vocab_size; ++i)
    if (!seen[size_t(i)]) {
      tokens[size_t(i)] = fmt::format("[PAD{}]", i);
      ++s.padded;
    }
  s.tokens = vocab_size;

  std::vector<std::string> merges;
  if (m.contains("merges") && m["merges"].is_array()) {
    merges.reserve(m["merges"].size());
    for (const auto& x : m["merges"]) {
      if (x.is_string()) merges.push_back(x.get<std::string>());
      else if (x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string())
        merges.push_back(x[0].get<std::string>() + " " + x[1].get<std::string>());
      else fail("{}: model.merges entry {} is neither \"a b\" nor [\"a\", \"b\"]", tpath, merges.size());
    }
  }
  s.merges = int64_t(merges.size());

  json tc = file_exists(dir + "/tokenizer_config.json") ? load_json(dir + "/tokenizer_config.json") : json::object();
  json cfg = file_exists(dir + "/config.json") ? load_json(dir + "/config.json") : json::object();
  auto special = [&](const char* tc_key, const char* cfg_key) -> int64_t {
    if (tc.contains(tc_key)) {
      std::string c = token_content(tc[tc_key]);
      if (!c.empty()) {
        auto it = id_of.find(c);
        if (it == id_of.end()) fail("{}/tokenizer_config.json: {} '{}' is not in the vocabulary", dir, tc_key, c);
        return it->second;
      }
    }
    if (cfg_key && cfg.contains(cfg_key)) {
      const json& v = cfg[cfg_key];
      const json& x = v.is_array() && !v.empty() ? v[0] : v;
      if (x.is_number_integer() && x.get<int64_t>() >= 0 && x.get<int64_t>() < vocab_size) return x.get<int64_t>();
    }
    return -1;
  };
  s.bos = special("bos_token", "bos_token_id");
  s.eos = special("eos_token", "eos_token_id");
  int64_t unk = special("unk_token", nullptr), pad = special("pad_token", "pad_token_id");

  std::string tmpl;
  if (tc.contains("chat_template") && tc["chat_template"].is_string()) tmpl = tc["chat_template"].get<std::string>();
  else if (file_exists(dir + "/chat_template.jinja")) tmpl = read_file(dir + "/chat_template.jinja");
  s.chat_template = !tmpl.empty();

  w.set("tokenizer.ggml.model", Value::string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::string("minimax-m2"));
  w.set("tokenizer.ggml.tokens", Value::string_array(std::move(tokens)));
  w.set("tokenizer.ggml.token_type", Value::array(ValueType::I32, types));
  w.set("tokenizer.ggml.merges", Value::string_array(std::move(merges)));
  if (s.bos >= 0) w.set("tokenizer.ggml.bos_token_id", Value::u32(uint32_t(s.bos)));
  if (s.eos >= 0) w.set("tokenizer.ggml.eos_token_id", Value::u32(uint32_t(s.eos)));
  if (unk >= 0) w.set("tokenizer.ggml.unknown_token_id", Value::u32(uint32_t(unk)));
  if (pad >= 0) w.set("tokenizer.ggml.padding_token_id", Value::u32(uint32_t(pad)));
  w.set("tokenizer.ggml.add_bos_token", Value::boolean(tc.value("add_bos_token", false)));
  w.set("tokenizer.ggml.add_eos_token", Value::boolean(tc.value("add_eos_token", false)));
  if (!tmpl.empty()) w.set("tokenizer.chat_template", Value::string(tmpl));
  return s;
}

}  // namespace mixq::gguf
