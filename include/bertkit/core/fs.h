// File helpers: whole-file reads with clear errors, and atomic writes
// (temporary name in the same directory, then rename) so a crash never
// leaves a half-written file (docs/architecture.md).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace bertkit {

// Read a whole file; InputError naming the path when it cannot be read.
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
bool dir_exists(const std::string& path);
// Create a directory and its parents; RuntimeError on failure.
void make_dirs(const std::string& path);

// Write `data` to `path` atomically.
void write_file_atomic(const std::string& path, std::string_view data);
// Call `write(tmp_path)` to produce the file, then rename tmp_path -> path.
// On any exception the temporary file is removed and `path` is untouched.
void write_atomic(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Replace directory `dir` atomically with the directory that `fill(tmp_dir)`
// populates: the old directory (if any) is kept until the new one is complete.
void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& fill);

}  // namespace bertkit
