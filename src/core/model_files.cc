#include "bertkit/core/model_files.h"

#include <filesystem>
#include <system_error>

#include "bertkit/core/error.h"

namespace fs = std::filesystem;

namespace bertkit {

namespace {

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin(), r = root.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

}  // namespace

std::string model_file(const std::string& dir, const std::string& name, const std::string& where) {
  const fs::path rel(name);
  bool climbs = rel.is_absolute();
  for (const auto& part : rel) climbs |= part == "..";
  if (climbs)
    throw InputError(where + ": '" + name + "' must name a file inside the model directory " + dir +
                     " (no absolute path, no '..')");
  const fs::path path = fs::path(dir) / rel;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return path.string();
  const fs::path root = resolved(dir), target = resolved(path);
  if (is_within(target, root)) return path.string();
  // The HuggingFace cache: <repo>/snapshots/<commit>/<file> -> ../../blobs/<etag>.
  if (root.parent_path().filename() == "snapshots" &&
      is_within(target, root.parent_path().parent_path() / "blobs"))
    return path.string();
  throw InputError(where + ": " + path.string() + " leads to " + target.string() +
                   ", outside the model directory " + dir + " (a symbolic link out of it); refusing to read it");
}

}  // namespace bertkit
