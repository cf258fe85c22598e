#include "bertkit/core/fs.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "bertkit/core/error.h"

namespace fs = std::filesystem;

namespace bertkit {

namespace {
std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}
}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory (expected a file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading (does it exist and is it readable?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw RuntimeError(path + ": read failed");
  return ss.str();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool dir_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

void make_dirs(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec == std::errc::not_a_directory || ec == std::errc::file_exists)
    throw InputError(path + ": cannot create directory: a file is in the way (expected a directory or a new path)");
  if (ec) throw RuntimeError(path + ": cannot create directory: " + ec.message());
}

void write_atomic(const std::string& path, const std::function<void(const std::string&)>& write) {
  fs::path target(path);
  if (target.has_parent_path()) make_dirs(target.parent_path().string());
  std::string tmp = path + unique_suffix();
  try {
    write(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw RuntimeError(path + ": cannot move " + tmp + " into place: " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_file_atomic(const std::string& path, std::string_view data) {
  write_atomic(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw RuntimeError(tmp + ": cannot open for writing");
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) throw RuntimeError(tmp + ": write failed (disk full?)");
  });
}

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string&)>& fill) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  if (target.has_parent_path()) make_dirs(target.parent_path().string());
  std::string tmp = target.string() + unique_suffix();
  std::string old = target.string() + ".old" + unique_suffix();
  std::error_code ec;
  try {
    make_dirs(tmp);
    fill(tmp);
    bool had_old = fs::exists(target);
    if (had_old) {
      fs::rename(target, old, ec);
      if (ec) throw RuntimeError(dir + ": cannot move the previous directory aside: " + ec.message());
    }
    fs::rename(tmp, target, ec);
    if (ec) {
      if (had_old) fs::rename(old, target, ec);  // put the previous one back
      throw RuntimeError(dir + ": cannot move " + tmp + " into place");
    }
    if (had_old) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace bertkit
