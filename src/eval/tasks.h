// The benchmark tasks of `mixq eval tasks`: which items, the prompt of each (one named anchor
// convention per task, `convention`), and how a response is scored. Every task is zero-shot chat.
//   gsm8k        lm-eval gsm8k_cot_llama prompt; answer chain in answer_extract.h
//   humaneval    evalplus --backend openai prompt; human-eval check() in the sandbox
//   mbppplus     evalplus prompt (+ its first assertion); base + plus inputs vs the reference
//   mmlu:<subj>  simple-evals 0-shot CoT multiple-choice prompt and regex
//   math500      simple-evals MATH prompt; hendrycks normaliser + equivalences (math_equiv.h)
//   needle       RULER niah_single (needle.h)
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/code_exec.h"
#include "eval/needle.h"
#include "eval/openai_client.h"

namespace mixq::eval {

enum class TaskKind { Gsm8k, HumanEval, MbppPlus, Mmlu, Math500, Needle };

struct TaskItem {
  std::string id, prompt, gold;
  nlohmann::json data;  // what the scorer needs (tests, entry point, inputs)
};

struct Task {
  std::string name;  // "gsm8k", "mmlu:machine_learning", ...
  TaskKind kind = TaskKind::Gsm8k;
  std::string convention, dataset;
  std::vector<TaskItem> items;
};

struct NeedleOptions {
  std::vector<int64_t> lengths{1024, 4096};
  std::vector<double> depths{0, 25, 50, 75, 100};
  uint64_t seed = 42;
  TokenCounter count;  // set by the caller (the endpoint's /tokenize, or mixq's tokenizer)
};

// "gsm8k,mmlu:seed-card" -> the task names, `mmlu:seed-card` as the card's three subjects and
// `mmlu:all` as all 57. Throws InputError naming an unknown task or subject.
std::vector<std::string> expand_task_list(const std::string& list, const std::string& data_dir);
Task load_task(const std::string& name, const std::string& data_dir, const NeedleOptions& needle);

// outcome: correct | wrong | no_answer | truncated (finish_reason "length": its own outcome, not
// scored as wrong) | error (the request failed).
struct ItemScore {
  std::string outcome, extracted;
  nlohmann::json detail = nlohmann::json::object();
  bool correct() const { return outcome == "correct"; }
  nlohmann::json to_json() const;
  static ItemScore from_json(const nlohmann::json& j);
};
ItemScore score_item(const Task& task, const TaskItem& item, const Completion& c, const CodeLimits& lim, int slot);

}  // namespace mixq::eval
