#include "bertkit/hub/download.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/hub/cache.h"
#include "bertkit/hub/http.h"
#include "file_lock.h"
#include "hub_errors.h"
#include "progress.h"
#include "sha256.h"

namespace fs = std::filesystem;

namespace bertkit::hub {

namespace {

struct RepoInfo {
  std::string commit;
  std::vector<std::string> files;
};

// What a HEAD on /{id}/resolve/{commit}/{file} says about the file.
struct FileMetadata {
  std::string etag;       // X-Linked-Etag (LFS: its sha256) or ETag, without quotes or W/
  std::int64_t size = -1; // X-Linked-Size, or Content-Length when not redirected
  std::string location;   // where to GET it (an LFS redirect's target)
};

struct Context {
  const RepoRef& ref;
  const HubSettings& settings;
  const RepoCache& cache;
  const HttpClient& client;
  const DownloadOptions& options;
};

std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  return etag;
}

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// A repository file name becomes a path under snapshots/<commit>/.
bool safe_relative_path(const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(name))
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

RepoInfo fetch_repo_info(const Context& c) {
  std::string url = c.settings.endpoint + "/api/models/" + c.ref.repo_id + "/revision/" + url_quote(c.ref.revision, "");
  HttpResponse r = c.client.get(url);
  if (r.transport_failed()) throw_unreachable(r, c.ref, c.settings, c.cache);
  if (r.status != 200) throw_http_error(r, c.ref, c.settings, "the repository");
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sha") || !j["sha"].is_string() ||
      !is_commit_hash(j["sha"].get<std::string>()))
    throw RuntimeError(c.ref.repo_id + ": " + url + " did not answer with the repository's commit (\"sha\"): is HF_ENDPOINT a Hub?");
  RepoInfo info;
  info.commit = j["sha"];
  for (const auto& s : j.value("siblings", nlohmann::json::array()))
    if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string())
      info.files.push_back(s["rfilename"]);
  return info;
}

FileMetadata fetch_file_metadata(const Context& c, const std::string& commit, const std::string& filename) {
  std::string url = c.settings.endpoint + "/" + c.ref.repo_id + "/resolve/" + commit + "/" + url_quote(filename);
  HttpResponse r = c.client.head(url);
  if (r.transport_failed()) throw_unreachable(r, c.ref, c.settings, c.cache);
  if (r.status >= 400) throw_http_error(r, c.ref, c.settings, filename);
  if (r.header("x-repo-commit").empty())
    throw RuntimeError(c.ref.repo_id + ": " + url + " has no X-Repo-Commit header: is HF_ENDPOINT a Hub (or is a proxy in between)?");
  FileMetadata m;
  std::string linked = r.header("x-linked-etag");
  m.etag = normalize_etag(linked.empty() ? r.header("etag") : linked);
  if (m.etag.empty() || !safe_relative_path(m.etag) || m.etag.find('/') != std::string::npos)
    throw RuntimeError(c.ref.repo_id + ": " + url + " has no usable ETag, so the file cannot be cached reliably");
  std::string size = r.header("x-linked-size");
  if (size.empty() && r.status / 100 != 3) size = r.header("content-length");
  if (size.empty() || size.find_first_not_of("0123456789") != std::string::npos)
    throw RuntimeError(c.ref.repo_id + ": " + url + " gave no size (X-Linked-Size / Content-Length)");
  m.size = std::stoll(size);
  std::string location = r.header("location");
  if (location.empty()) m.location = r.url;
  else if (location.find("://") != std::string::npos) m.location = location;
  else m.location = url_origin(r.url) + (location[0] == '/' ? "" : "/") + location;
  return m;
}

// GET into blobs/<etag>.incomplete, resuming what is there (a dropped
// connection is resumed up to 5 times in a row without progress), then check
// size and sha256 and move it into place.
void fetch_blob(const Context& c, const std::string& filename, const FileMetadata& m) {
  const std::string blob = c.cache.blob_path(m.etag);
  const std::string incomplete = blob + ".incomplete";
  std::unique_ptr<std::FILE, decltype(&std::fclose)> out(std::fopen(incomplete.c_str(), "ab"), std::fclose);
  if (!out) throw RuntimeError(incomplete + ": cannot open for writing");
  std::int64_t offset = static_cast<std::int64_t>(fs::file_size(incomplete));
  if (offset > m.size) {  // not a prefix of this blob: start over
    if (ftruncate(fileno(out.get()), 0) != 0) throw RuntimeError(incomplete + ": cannot truncate");
    offset = 0;
  }
  std::unique_ptr<ProgressBar> bar;
  if (c.options.progress) bar = std::make_unique<ProgressBar>(filename, m.size, offset);
  auto on_bytes = [&](std::int64_t n) { if (bar) bar->add(n); };
  int retries = 5;
  while (offset < m.size) {
    std::int64_t before = offset;
    HttpResponse r = c.client.get_to_file(m.location, out.get(), &offset, on_bytes);
    if (!r.transport_failed() && r.status >= 400) throw_http_error(r, c.ref, c.settings, filename);
    if (!r.transport_failed()) break;
    if (offset > before) retries = 5;
    if (retries-- == 0)
      throw RuntimeError(c.ref.repo_id + ": downloading " + filename + " failed (" + r.error + ") after " +
                         std::to_string(offset) + " of " + std::to_string(m.size) +
                         " bytes; run the command again to resume from " + incomplete);
    std::cerr << "warning: " << filename << ": " << r.error << " after " << offset << " bytes; resuming\n";
    ::sleep(1);
  }
  if (std::fflush(out.get()) != 0) throw RuntimeError(incomplete + ": write failed (disk full?)");
  out.reset();
  if (bar) bar->finish();
  std::int64_t got = static_cast<std::int64_t>(fs::file_size(incomplete));
  if (got != m.size) {
    fs::remove(incomplete);
    throw RuntimeError(c.ref.repo_id + ": " + filename + " should be " + std::to_string(m.size) + " bytes but " +
                       std::to_string(got) + " arrived (a network problem?); run the command again");
  }
  if (is_sha256(m.etag) && sha256_file(incomplete) != m.etag) {
    fs::remove(incomplete);
    throw RuntimeError(c.ref.repo_id + ": " + filename + " does not match its sha256 " + m.etag +
                       " (corrupted in transit?); run the command again");
  }
  fs::rename(incomplete, blob);
}

void download_file(const Context& c, const std::string& commit, const std::string& filename) {
  if (file_exists(c.cache.pointer_path(commit, filename))) return;  // already in the snapshot
  FileMetadata m = fetch_file_metadata(c, commit, filename);
  make_dirs(c.cache.storage() + "/blobs");
  make_dirs(fs::path(c.cache.lock_path(m.etag)).parent_path().string());
  // One process per blob at a time; the others find it in place afterwards.
  FileLock lock(c.cache.lock_path(m.etag));
  if (!file_exists(c.cache.blob_path(m.etag))) fetch_blob(c, filename, m);
  if (!file_exists(c.cache.pointer_path(commit, filename))) c.cache.link_pointer(commit, filename, m.etag);
}

// config.json last: a snapshot with config.json was downloaded to the end.
void order_config_last(std::vector<std::string>& files) {
  std::stable_partition(files.begin(), files.end(), [](const std::string& f) { return f != "config.json"; });
}

}  // namespace

std::string snapshot_download(const RepoRef& ref, const HubSettings& settings, const DownloadOptions& options) {
  RepoCache cache(settings.cache_dir, ref.repo_id);
  if (settings.offline) {
    if (auto dir = cache.snapshot_for(ref.revision)) return *dir;
    throw_not_cached_offline(ref, cache);
  }
  HttpClient client(settings.endpoint, settings.token);
  Context c{ref, settings, cache, client, options};
  RepoInfo info = fetch_repo_info(c);
  std::vector<std::string> files =
      options.include.empty() ? select_model_files(info.files) : filter_by_globs(info.files, options.include);
  for (const auto& f : files)
    if (!safe_relative_path(f)) throw RuntimeError(ref.repo_id + ": the Hub listed an unsafe file name: " + f);
  if (files.empty())
    throw InputError(ref.repo_id + ": no file of the repository matches " +
                     (options.include.empty() ? std::string("what a BERT model needs (config.json, weights, tokenizer)")
                                              : std::string("--include")));
  make_dirs(cache.storage());
  cache.tag_cache_dir();
  cache.write_ref(ref.revision, info.commit);
  order_config_last(files);
  for (const auto& f : files) download_file(c, info.commit, f);
  return cache.snapshot_dir(info.commit);
}

}  // namespace bertkit::hub
