// Whole-file helpers and crash-safe writes: content goes to "<path>.tmp.<pid>" and is renamed over
// the target only when complete, so a killed process never leaves a half-written file behind.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mixq {

std::string read_file(const std::string& path);  // InputError naming the path when unreadable
void write_file_atomic(const std::string& path, std::string_view content);
// The same for content in several pieces written back to back (e.g. a header and a large payload
// that must not be copied into one buffer): temp name, fsync, rename; the temp is removed on failure.
void write_file_atomic(const std::string& path, std::initializer_list<std::string_view> pieces);
std::string temp_name_for(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
uint64_t file_size(const std::string& path);
void fsync_path(const std::string& path);

}  // namespace mixq
