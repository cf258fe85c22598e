#include "bertkit/core/fs.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fault_injection.h"

namespace fs = std::filesystem;

namespace bertkit {

namespace {
std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Flush a file's (or a directory's entries') data to the disk: a rename that
// follows then never exposes a file whose blocks a power cut would lose.
void sync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw RuntimeError(path + ": cannot open to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS)  // EINVAL/EROFS: a file system without fsync
    throw RuntimeError(path + ": fsync failed (disk full?): " + std::strerror(err));
}

void sync_parent(const fs::path& p) { sync_path(p.has_parent_path() ? p.parent_path().string() : ".", true); }

// Every file and directory under `dir`, then `dir` itself.
void sync_tree(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() || e.is_directory()) sync_path(e.path().string(), e.is_directory());
  sync_path(dir, true);
}

// Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); false where the
// file system cannot.
bool exchange_paths(const std::string& a, const std::string& b) {
#ifdef RENAME_EXCHANGE
  return ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
#else
  return false;
#endif
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
    sync_path(tmp, false);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw RuntimeError(path + ": cannot move " + tmp + " into place: " + ec.message());
    sync_parent(target);
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
    errno = 0;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) throw RuntimeError(tmp + ": write failed (" + (errno ? std::string(std::strerror(errno)) + ": " : "") + "disk full?)");
  });
}

// The new directory is complete and on disk before it takes the name; an old
// one is swapped out in the same rename (or, where the file system cannot swap,
// moved aside just before), then removed.
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
    sync_tree(tmp);
    kill_point("write_dir_atomic.filled");
    bool had_old = fs::exists(target);
    if (had_old && exchange_paths(tmp, target.string())) {
      old = tmp;  // tmp now holds the previous directory
    } else {
      if (had_old) {
        fs::rename(target, old, ec);
        if (ec) throw RuntimeError(dir + ": cannot move the previous directory aside: " + ec.message());
      }
      fs::rename(tmp, target, ec);
      if (ec) {
        if (had_old) fs::rename(old, target, ec);  // put the previous one back
        throw RuntimeError(dir + ": cannot move " + tmp + " into place");
      }
    }
    sync_parent(target);
    kill_point("write_dir_atomic.renamed");
    if (had_old) fs::remove_all(old, ec);
  } catch (...) {
    if (fs::exists(tmp, ec) && tmp != old) fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace bertkit
