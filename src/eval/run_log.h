// The JSONL log of a task run (<output>/requests.jsonl): one line per finished item, appended as
// it completes (one write(2) on an O_APPEND descriptor, so a killed run leaves whole lines, and at
// worst one torn last line that the reader skips). A line holds the item's fingerprint (a hash of
// task, item id and the exact request body), the request, the raw response, the parsed completion
// and the score. A restarted run reuses every line whose fingerprint it would request again and
// whose request did not fail, so it produces the same report.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <string>

namespace mixq::eval {

std::string item_fingerprint(const std::string& task, const std::string& id, const nlohmann::json& request);
std::string prompt_hash(const nlohmann::json& messages);

class RunLog {
 public:
  explicit RunLog(const std::string& path);  // creates the file; InputError when it cannot
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  // Finished lines by fingerprint (the last one wins; failed requests are not "finished").
  const std::map<std::string, nlohmann::json>& finished() const { return finished_; }
  size_t skipped_lines() const { return skipped_; }
  void append(const nlohmann::json& line);  // thread-safe

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> finished_;
  size_t skipped_ = 0;
};

}  // namespace mixq::eval
