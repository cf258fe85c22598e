// One repository's folder in the HuggingFace cache, laid out exactly as
// huggingface_hub lays it out (so Python and bertkit share it):
//   <cache>/models--org--name/refs/<revision>            the commit hash (no newline)
//   <cache>/models--org--name/blobs/<etag>               the files' bytes (sha256 for LFS files, git sha1 else)
//   <cache>/models--org--name/snapshots/<commit>/<file>  relative symlinks to ../../blobs/<etag>
//   <cache>/.locks/models--org--name/<etag>.lock         held while a blob is downloaded
#pragma once

#include <optional>
#include <string>

namespace bertkit::hub {

class RepoCache {
 public:
  RepoCache(std::string cache_dir, const std::string& repo_id);

  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& storage() const { return storage_; }
  std::string blob_path(const std::string& etag) const;
  std::string snapshot_dir(const std::string& commit) const;
  std::string pointer_path(const std::string& commit, const std::string& filename) const;
  std::string lock_path(const std::string& etag) const;

  // The commit a revision names: itself for a commit hash, else refs/<revision>.
  std::optional<std::string> commit_for(const std::string& revision) const;
  // The snapshot directory of `revision` when the cache has one.
  std::optional<std::string> snapshot_for(const std::string& revision) const;
  // Write refs/<revision> atomically when it differs (nothing for a commit hash).
  void write_ref(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<filename> -> the blob, as a relative symlink.
  void link_pointer(const std::string& commit, const std::string& filename, const std::string& etag) const;
  // CACHEDIR.TAG at the cache root, so backup tools skip the cache.
  void tag_cache_dir() const;

 private:
  std::string cache_dir_, repo_folder_, storage_;
};

// A snapshot directory holds a model bertkit can load: config.json and its
// weights (model.safetensors, a sharded index with every shard, or pytorch_model.bin).
bool snapshot_has_model(const std::string& dir);

}  // namespace bertkit::hub
