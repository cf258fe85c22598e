#include "fake_hub.h"

#include <httplib.h>
#include <openssl/evp.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace bertkit::test {

namespace {

std::string digest_hex(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

void error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  if (!code.empty()) res.set_header("X-Error-Code", code);
  res.set_header("X-Error-Message", message);
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

std::string git_blob_sha1(const std::string& content) {
  std::string blob = "blob " + std::to_string(content.size()) + std::string(1, '\0') + content;
  return digest_hex(EVP_sha1(), blob);
}

std::string sha256_hex(const std::string& content) { return digest_hex(EVP_sha256(), content); }

FakeHub::FakeHub() : server_(std::make_unique<httplib::Server>()) {
  routes();
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

FakeHub::~FakeHub() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeHub::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeHub::add_repo(FakeRepo repo) {
  std::lock_guard<std::mutex> lock(mu_);
  repo.refs.emplace("main", repo.commit);
  for (const auto& [name, f] : repo.files)
    if (f.lfs) lfs_[sha256_hex(f.content)] = f.content;
  repos_[repo.id] = std::move(repo);
}

std::vector<std::string> FakeHub::lfs_ranges() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ranges_;
}

std::string FakeHub::last_authorization() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_auth_;
}

const FakeRepo* FakeHub::find(const std::string& id) const {
  auto it = repos_.find(id);
  return it == repos_.end() ? nullptr : &it->second;
}

void FakeHub::routes() {
  // The repository's answer to a request: nullptr after writing the Hub's error.
  auto authorize = [this](const httplib::Request& req, httplib::Response& res, const std::string& id) -> const FakeRepo* {
    std::lock_guard<std::mutex> lock(mu_);
    last_auth_ = req.get_header_value("Authorization");
    const FakeRepo* repo = find(id);
    if (!repo || (!repo->token.empty() && last_auth_ != "Bearer " + repo->token)) {
      error(res, 401, "RepoNotFound", "Repository not found");
      return nullptr;
    }
    return repo;
  };
  auto commit_of = [](const FakeRepo& repo, const std::string& rev) -> std::string {
    if (rev == repo.commit) return rev;
    auto it = repo.refs.find(rev);
    return it == repo.refs.end() ? "" : it->second;
  };

  server_->Get(R"(/api/models/(.+)/revision/([^/]+))", [=](const httplib::Request& req, httplib::Response& res) {
    ++api_requests;
    const FakeRepo* repo = authorize(req, res, req.matches[1]);
    if (!repo) return;
    std::string commit = commit_of(*repo, req.matches[2]);
    if (commit.empty()) return error(res, 404, "RevisionNotFound", "Invalid rev id: " + std::string(req.matches[2]));
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& [name, f] : repo->files) siblings.push_back({{"rfilename", name}});
    nlohmann::json j{{"id", repo->id}, {"sha", commit}, {"siblings", siblings}, {"gated", repo->gated ? "auto" : "false"}};
    res.set_content(j.dump(), "application/json");
  });

  // /{org}/{name}/resolve/{rev}/{file...} or /{name}/resolve/{rev}/{file...}
  server_->Get(R"(/((?:[^/]+/)?[^/]+)/resolve/([^/]+)/(.+))", [=](const httplib::Request& req, httplib::Response& res) {
    ++resolve_requests;
    const FakeRepo* repo = authorize(req, res, req.matches[1]);
    if (!repo) return;
    std::string commit = commit_of(*repo, req.matches[2]);
    if (commit.empty()) return error(res, 404, "RevisionNotFound", "Invalid rev id");
    res.set_header("X-Repo-Commit", commit);
    if (repo->gated)
      return error(res, 401, "GatedRepo", "Access to model " + repo->id + " is restricted. You must be authenticated.");
    auto f = repo->files.find(req.matches[3]);
    if (f == repo->files.end()) return error(res, 404, "EntryNotFound", "Entry not found");
    if (!f->second.lfs) {
      res.set_header("ETag", "\"" + git_blob_sha1(f->second.content) + "\"");
      res.set_content(f->second.content, "application/octet-stream");
      return;
    }
    const std::string sha = sha256_hex(f->second.content);
    // As the Hub: the ETag is the pointer file's, the linked ones describe the LFS object.
    res.set_header("ETag", "\"" + git_blob_sha1("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha) + "\"");
    res.set_header("X-Linked-Etag", "\"" + sha + "\"");
    res.set_header("X-Linked-Size", std::to_string(f->second.content.size()));
    res.set_redirect(endpoint() + "/lfs/" + sha + "?filename=" + std::string(req.matches[3]), 302);
  });

  server_->Get(R"(/lfs/([0-9a-f]{64}))", [=](const httplib::Request& req, httplib::Response& res) {
    std::string content;
    bool drop = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = lfs_.find(req.matches[1]);
      if (it == lfs_.end()) return error(res, 404, "", "no such object");
      content = it->second;
      if (req.method == "GET") {
        ++lfs_gets;
        ranges_.push_back(req.get_header_value("Range"));
        if (drops > 0) {
          --drops;
          drop = true;
        }
      }
    }
    res.set_header("ETag", "\"" + std::string(req.matches[1]) + "\"");
    res.set_content_provider(content.size(), "application/octet-stream",
                             [content, drop](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t n = drop ? length / 2 : length;
                               sink.write(content.data() + offset, n);
                               return !drop;  // false: close the connection mid-body
                             });
  });
}

}  // namespace bertkit::test
