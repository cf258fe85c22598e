#include "bertkit/hub/cache.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/hub/repo_id.h"

namespace fs = std::filesystem;

namespace bertkit::hub {

RepoCache::RepoCache(std::string cache_dir, const std::string& repo_id)
    : cache_dir_(std::move(cache_dir)), repo_folder_(repo_folder_name(repo_id)), storage_(cache_dir_ + "/" + repo_folder_) {}

std::string RepoCache::blob_path(const std::string& etag) const { return storage_ + "/blobs/" + etag; }
std::string RepoCache::snapshot_dir(const std::string& commit) const { return storage_ + "/snapshots/" + commit; }
std::string RepoCache::pointer_path(const std::string& commit, const std::string& filename) const {
  return snapshot_dir(commit) + "/" + filename;
}
std::string RepoCache::lock_path(const std::string& etag) const {
  return cache_dir_ + "/.locks/" + repo_folder_ + "/" + etag + ".lock";
}

std::optional<std::string> RepoCache::commit_for(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  std::ifstream in(storage_ + "/refs/" + revision);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string commit = ss.str();
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

std::optional<std::string> RepoCache::snapshot_for(const std::string& revision) const {
  auto commit = commit_for(revision);
  if (!commit || !dir_exists(snapshot_dir(*commit))) return std::nullopt;
  return snapshot_dir(*commit);
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  if (commit_for(revision) == commit) return;  // unchanged: a read-only cache stays usable
  std::string path = storage_ + "/refs/" + revision;
  make_dirs(fs::path(path).parent_path().string());
  write_file_atomic(path, commit);
}

void RepoCache::link_pointer(const std::string& commit, const std::string& filename, const std::string& etag) const {
  fs::path pointer = pointer_path(commit, filename);
  make_dirs(pointer.parent_path().string());
  fs::path target = fs::path(blob_path(etag)).lexically_relative(pointer.parent_path());
  std::error_code ec;
  fs::remove(pointer, ec);
  fs::create_symlink(target, pointer, ec);
  if (ec) {
    // Another process linked it between remove and create: fine if it is the same blob.
    std::error_code ec2;
    if (fs::is_symlink(pointer, ec2) && fs::read_symlink(pointer, ec2) == target) return;
    throw RuntimeError(pointer.string() + ": cannot create the snapshot link: " + ec.message());
  }
}

void RepoCache::tag_cache_dir() const {
  std::string tag = cache_dir_ + "/CACHEDIR.TAG";
  if (file_exists(tag)) return;
  try {
    write_file_atomic(tag,
                      "Signature: 8a477f597d28d172789f06886806bc55\n"
                      "# This file is a cache directory tag created by huggingface_hub.\n"
                      "# For information about cache directory tags, see:\n"
                      "#\thttps://bford.info/cachedir/\n");
  } catch (const Error&) {
    // Best effort, as in huggingface_hub.
  }
}

bool snapshot_has_model(const std::string& dir) {
  if (!file_exists(dir + "/config.json")) return false;
  if (file_exists(dir + "/model.safetensors") || file_exists(dir + "/pytorch_model.bin")) return true;
  for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
    std::string path = dir + "/" + index;
    if (!file_exists(path)) continue;
    auto j = nlohmann::json::parse(read_file(path), nullptr, false);
    if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object()) return false;
    for (const auto& [name, shard] : j["weight_map"].items())
      if (!shard.is_string() || !file_exists(dir + "/" + shard.get<std::string>())) return false;
    return true;
  }
  return false;
}

}  // namespace bertkit::hub
