#include "eval/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "eval/answer_extract.h"
#include "eval/code_extract.h"
#include "eval/math_equiv.h"
#include "eval/task_data.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::eval {

namespace {

const char* kCardSubjects[] = {"college_computer_science", "computer_security", "machine_learning"};

// Item counts of the final MMLU release (cais/mmlu), for the subjects where the bundled
// September 2020 files differ: the report says which one it used.
int final_release_count(const std::string& subject) {
  if (subject == "machine_learning") return 112;
  return -1;
}

std::string code_prompt(const std::string& prompt) {
  return "Please provide a self-contained Python script that solves the following problem in a markdown code "
         "block:\n```python\n" + prompt + "\n```";
}

Task load_gsm8k(const std::string& dir) {
  Task t;
  t.kind = TaskKind::Gsm8k;
  t.convention = "lm-eval gsm8k_cot_llama prompt, zero-shot chat; answer: last 'The final answer is N', else "
                 "'#### N', 'Answer: N', \\boxed{N}, **N**, last number (flexible)";
  const std::string path = dir + "/gsm8k/test.jsonl";
  auto rows = read_jsonl(path);
  t.dataset = fmt::format("openai/grade-school-math test.jsonl, {} items", rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::string ans = r.value("answer", "");
    size_t h = ans.rfind("####");
    if (!r.contains("question") || h == std::string::npos) fail("{}:{}: expected question and an answer with ####", path, i + 1);
    TaskItem it;
    it.id = fmt::format("gsm8k/{}", i);
    it.gold = normalize_number(ans.substr(h + 4));
    it.prompt = "Given the following problem, reason and give a final answer to the problem.\nProblem: " +
                r["question"].get<std::string>() +
                "\nYour response should end with \"The final answer is [answer]\" where [answer] is the response to "
                "the problem.\n";
    t.items.push_back(std::move(it));
  }
  return t;
}

Task load_humaneval(const std::string& dir) {
  Task t;
  t.kind = TaskKind::HumanEval;
  t.convention = "evalplus --backend openai prompt (self-contained script in a markdown block); human-eval "
                 "check() in the sandbox, pass@1";
  const std::string path = dir + "/humaneval/HumanEval.jsonl";
  auto rows = read_jsonl(path);
  t.dataset = fmt::format("openai/human-eval HumanEval.jsonl, {} items (base tests)", rows.size());
  for (const auto& r : rows) {
    for (const char* k : {"task_id", "prompt", "test", "entry_point", "canonical_solution"})
      if (!r.contains(k) || !r[k].is_string()) fail("{}: an item lacks '{}'", path, k);
    TaskItem it;
    it.id = r["task_id"];
    it.prompt = code_prompt(r["prompt"].get<std::string>());
    it.data = {{"prompt", r["prompt"]}, {"test", r["test"]}, {"entry_point", r["entry_point"]},
               {"canonical", r["canonical_solution"]}};
    t.items.push_back(std::move(it));
  }
  return t;
}

// The prompt as evalplus's released MBPP+ writes it: the description and the first assertion
// (which names the function) in a docstring. The bundled pre-release file has only the
// description, in ''' quotes.
std::string mbpp_prompt(const nlohmann::json& r) {
  std::string desc = r.value("prompt", "");
  for (const char* q : {"'''", "\"\"\""}) {
    size_t a = desc.find(q), b = desc.rfind(q);
    if (a != std::string::npos && b != a) desc = desc.substr(a + 3, b - a - 3);
  }
  while (!desc.empty() && (desc.front() == '\n' || desc.front() == ' ')) desc.erase(desc.begin());
  while (!desc.empty() && (desc.back() == '\n' || desc.back() == ' ')) desc.pop_back();
  std::string first_assert;
  std::string as = r.value("assertion", "");
  for (size_t p = 0; p < as.size();) {
    size_t e = as.find('\n', p);
    std::string line = as.substr(p, e == std::string::npos ? std::string::npos : e - p);
    if (line.rfind("assert", 0) == 0) { first_assert = line; break; }
    if (e == std::string::npos) break;
    p = e + 1;
  }
  return "\"\"\"\n" + desc + "\n" + first_assert + "\n\"\"\"\n";
}

Task load_mbppplus(const std::string& dir) {
  Task t;
  t.kind = TaskKind::MbppPlus;
  t.convention = "evalplus --backend openai prompt (description + first assertion); base + plus inputs against the "
                 "reference solution's outputs, evalplus time limits, in the sandbox";
  const std::string path = dir + "/mbppplus/MbppPlus.jsonl";
  auto rows = read_jsonl(path);
  t.dataset = fmt::format("evalplus MbppPlus.jsonl pre-release @767efcc3, {} items (the released v0.2.0 has 378)",
                          rows.size());
  for (const auto& r : rows) {
    for (const char* k : {"task_id", "prompt", "entry_point", "canonical_solution", "assertion"})
      if (!r.contains(k) || !r[k].is_string()) fail("{}: an item lacks '{}'", path, k);
    // One task (Mbpp/793) has no plus inputs, written as {}.
    auto inputs_ok = [&](const char* k) { return r.contains(k) && (r[k].is_array() || (r[k].is_object() && r[k].empty())); };
    if (!inputs_ok("base_input") || !inputs_ok("plus_input"))
      fail("{}: {} lacks base_input/plus_input", path, r["task_id"].get<std::string>());
    TaskItem it;
    it.id = r["task_id"];
    std::string prompt = mbpp_prompt(r);
    it.prompt = code_prompt(prompt);
    nlohmann::json inputs = r["base_input"].is_array() ? r["base_input"] : nlohmann::json::array();
    if (r["plus_input"].is_array())
      for (const auto& x : r["plus_input"]) inputs.push_back(x);
    it.data = {{"prompt", prompt}, {"entry_point", r["entry_point"]}, {"canonical", r["canonical_solution"]},
               {"inputs", inputs}, {"base_count", r["base_input"].size()},
               {"atol", r.contains("atol") && r["atol"].is_number() ? r["atol"].get<double>() : 0.0},
               {"contract", r.value("contract", "")}};
    t.items.push_back(std::move(it));
  }
  return t;
}

Task load_mmlu(const std::string& dir, const std::string& subject) {
  Task t;
  t.kind = TaskKind::Mmlu;
  t.convention = "simple-evals 0-shot CoT multiple-choice prompt; normalize_response + (?i)Answer[ \\t]*:[ \\t]*\\$?([A-D]) "
                 "(first match), then 'The best answer is X', \\boxed{X}, a bare letter";
  const std::string path = dir + "/mmlu/test/" + subject + "_test.csv";
  auto rows = read_csv(path);
  int final_n = final_release_count(subject);
  t.dataset = fmt::format("hendrycks/test @785eba57 (September 2020 release) {}_test.csv, {} items", subject, rows.size());
  if (final_n > 0 && final_n != int(rows.size()))
    t.dataset += fmt::format(" (the final release, cais/mmlu, has {})", final_n);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() != 6 || r[5].size() != 1 || r[5][0] < 'A' || r[5][0] > 'D')
      fail("{}: row {}: expected question,A,B,C,D,answer-letter", path, i + 1);
    TaskItem it;
    it.id = fmt::format("mmlu/{}/{}", subject, i);
    it.gold = r[5];
    it.prompt = "Answer the following multiple choice question. The last line of your response should be of the "
                "following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by "
                "step before answering.\n\n" + r[0] + "\n\nA) " + r[1] + "\nB) " + r[2] + "\nC) " + r[3] + "\nD) " + r[4];
    t.items.push_back(std::move(it));
  }
  return t;
}

Task load_math500(const std::string& dir) {
  Task t;
  t.kind = TaskKind::Math500;
  t.convention = "simple-evals MATH prompt ('Answer: $ANSWER' on the last line); last 'Answer:' line, else last "
                 "\\boxed{}; hendrycks strip_string + stated equivalences (no LLM judge, no sympy)";
  const std::string path = dir + "/math500/math500.jsonl";
  auto rows = read_jsonl(path);
  t.dataset = fmt::format("MATH-500 (prm800k test split, re-serialized) math500.jsonl, {} items", rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (!r.contains("problem") || !r.contains("answer")) fail("{}:{}: expected problem and answer", path, i + 1);
    TaskItem it;
    it.id = r.value("id", fmt::format("math500/{}", i));
    it.gold = r["answer"].get<std::string>();
    it.prompt = "Solve the following math problem step by step. The last line of your response should be of the "
                "form Answer: $ANSWER (without quotes) where $ANSWER is the answer to the problem.\n\n" +
                r["problem"].get<std::string>() +
                "\n\nRemember to put your answer on its own line after \"Answer:\", and you do not need to use a "
                "\\boxed command.";
    t.items.push_back(std::move(it));
  }
  return t;
}

Task load_needle(const NeedleOptions& o) {
  Task t;
  t.kind = TaskKind::Needle;
  t.convention = "RULER niah_single (noise haystack, one 7-digit magic number), chat; correct when the number is in "
                 "the answer";
  auto items = build_needle_items(o.lengths, o.depths, o.seed, o.count);
  t.dataset = fmt::format("generated: {} lengths x {} depths, seed {}", o.lengths.size(), o.depths.size(), o.seed);
  for (auto& n : items) {
    TaskItem it;
    it.id = n.id;
    it.prompt = n.prompt;
    it.gold = n.value;
    it.data = {{"length", n.length}, {"depth", n.depth}, {"prompt_tokens", n.tokens}, {"key", n.key}};
    t.items.push_back(std::move(it));
  }
  return t;
}

}  // namespace

std::vector<std::string> expand_task_list(const std::string& list, const std::string& data_dir) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  size_t p = 0;
  while (p <= list.size()) {
    size_t e = list.find(',', p);
    std::string name = list.substr(p, e == std::string::npos ? std::string::npos : e - p);
    p = e == std::string::npos ? list.size() + 1 : e + 1;
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    if (name.empty()) continue;
    if (name == "gsm8k" || name == "humaneval" || name == "mbppplus" || name == "math500" || name == "needle") {
      add(name);
    } else if (name == "mmlu:seed-card") {
      for (const char* s : kCardSubjects) add(std::string("mmlu:") + s);
    } else if (name == "mmlu:all" || name == "mmlu") {
      std::vector<std::string> subs;
      for (const auto& f : std::filesystem::directory_iterator(data_dir + "/mmlu/test")) {
        std::string fn = f.path().filename().string();
        if (fn.size() > 9 && fn.substr(fn.size() - 9) == "_test.csv") subs.push_back(fn.substr(0, fn.size() - 9));
      }
      std::sort(subs.begin(), subs.end());
      for (auto& s : subs) add("mmlu:" + s);
    } else if (name.rfind("mmlu:", 0) == 0) {
      if (!file_exists(data_dir + "/mmlu/test/" + name.substr(5) + "_test.csv"))
        fail("--tasks: unknown MMLU subject '{}' (see {}/mmlu/test)", name.substr(5), data_dir);
      add(name);
    } else {
      fail("--tasks: unknown task '{}' (gsm8k, humaneval, mbppplus, mmlu:<subject>, mmlu:seed-card, mmlu:all, math500, "
           "needle)", name);
    }
  }
  if (out.empty()) fail("--tasks: no task given");
  return out;
}

Task load_task(const std::string& name, const std::string& data_dir, const NeedleOptions& needle) {
  Task t;
  if (name == "gsm8k") t = load_gsm8k(data_dir);
  else if (name == "humaneval") t = load_humaneval(data_dir);
  else if (name == "mbppplus") t = load_mbppplus(data_dir);
  else if (name == "math500") t = load_math500(data_dir);
  else if (name == "needle") t = load_needle(needle);
  else if (name.rfind("mmlu:", 0) == 0) t = load_mmlu(data_dir, name.substr(5));
  else fail("--tasks: unknown task '{}'", name);
  t.name = name;
  return t;
}

nlohmann::json ItemScore::to_json() const {
  return {{"outcome", outcome}, {"extracted", extracted}, {"detail", detail}};
}

ItemScore ItemScore::from_json(const nlohmann::json& j) {
  ItemScore s;
  s.outcome = j.value("outcome", "error");
  s.extracted = j.value("extracted", "");
  if (j.contains("detail")) s.detail = j["detail"];
  return s;
}

ItemScore score_item(const Task& task, const TaskItem& item, const Completion& c, const CodeLimits& lim, int slot) {
  ItemScore s;
  if (!c.error.empty()) {
    s.outcome = "error";
    s.detail["error"] = c.error;
    return s;
  }
  const bool truncated = c.finish_reason == "length";
  ScoredText st = scored_text(c.content);
  if (st.unclosed_think) s.detail["unclosed_think"] = true;
  const std::string& text = st.text;
  bool got = false, right = false;
  switch (task.kind) {
    case TaskKind::Gsm8k: {
      std::string rule;
      if (auto v = extract_gsm8k(text, &rule)) {
        got = true;
        s.extracted = *v;
        s.detail["rule"] = rule;
        right = gsm8k_match(*v, item.gold);
      }
      break;
    }
    case TaskKind::Mmlu: {
      if (auto v = extract_mmlu(text)) {
        got = true;
        s.extracted = std::string(1, *v);
        right = s.extracted == item.gold;
      }
      break;
    }
    case TaskKind::Math500: {
      if (auto v = extract_math(text)) {
        got = true;
        s.extracted = *v;
        right = math_equal(*v, item.gold);
      }
      break;
    }
    case TaskKind::Needle: {
      got = !text.empty();
      right = got && text.find(item.gold) != std::string::npos;
      // The haystack as measured with the tokenizer: how close it came to the asked length.
      s.detail["length"] = item.data["length"];
      s.detail["depth"] = item.data["depth"];
      s.detail["prompt_tokens"] = item.data["prompt_tokens"];
      s.extracted = right ? item.gold : "";
      break;
    }
    case TaskKind::HumanEval:
    case TaskKind::MbppPlus: {
      const std::string ep = item.data["entry_point"];
      std::string code = extract_code(text, ep);
      got = code.find_first_not_of(" \t\r\n") != std::string::npos;
      s.extracted = code;
      if (!got || truncated) break;  // a cut-off script is not run: the outcome is "truncated"
      std::string program = code_program(code, item.data["prompt"], ep);
      CodeResult r = task.kind == TaskKind::HumanEval
                         ? run_humaneval(program, item.data["test"], ep, lim, slot)
                         : run_mbppplus(program, item.data["canonical"], ep, item.data["inputs"],
                                        item.data["base_count"], item.data["atol"], lim, slot, item.data["contract"]);
      s.detail["code"] = r.to_json();
      right = r.outcome == TestOutcome::Pass;
      if (task.kind == TaskKind::MbppPlus) s.detail["base_correct"] = r.base_pass;
      break;
    }
  }
  if (truncated) s.outcome = "truncated";
  else if (!got) s.outcome = "no_answer";
  else s.outcome = right ? "correct" : "wrong";
  return s;
}

}  // namespace mixq::eval
