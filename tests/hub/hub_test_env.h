// Helpers of the hub tests: environment variables set for one test, and the
// cache seen as a flat map of entries.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace bertkit::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every entry under `root`, symlinks not followed: "dir", "file:<bytes>" or "link:<target>".
inline std::map<std::string, std::string> tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = std::filesystem::recursive_directory_iterator(root); it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    if (it->is_symlink()) out[rel] = "link:" + std::filesystem::read_symlink(it->path()).string();
    else if (it->is_directory()) out[rel] = "dir";
    else out[rel] = "file:" + slurp(it->path().string());
  }
  return out;
}

// Environment variables set for one test and restored after it.
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (auto& [name, old] : saved_)
      old ? ::setenv(name.c_str(), old->c_str(), 1) : ::unsetenv(name.c_str());
  }
  void set(const std::string& name, const std::string& value) { save(name), ::setenv(name.c_str(), value.c_str(), 1); }
  void unset(const std::string& name) { save(name), ::unsetenv(name.c_str()); }

 private:
  void save(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace bertkit::test
