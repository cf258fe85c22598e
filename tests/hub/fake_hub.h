// A local stand-in for the HuggingFace Hub on a free loopback port, answering
// as the Hub does (checked against huggingface_hub's client code):
//   GET  /api/models/{id}/revision/{rev}  -> {"sha": ..., "siblings": [{"rfilename": ...}]}
//   HEAD/GET /{id}/resolve/{rev}/{file}   -> 200 with ETag (git blob sha1) and X-Repo-Commit for
//        regular files; 302 to /lfs/<sha256> with X-Linked-Etag / X-Linked-Size for LFS files
//   GET  /lfs/<sha256>                    -> the bytes, honouring Range
// and the Hub's errors (X-Error-Code RepoNotFound / RevisionNotFound /
// EntryNotFound / GatedRepo). It can drop connections mid-file.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace bertkit::test {

struct FakeFile {
  std::string content;
  bool lfs = false;
};

struct FakeRepo {
  std::string id;
  std::string commit;                    // 40 hex digits
  std::map<std::string, std::string> refs;  // branch/tag -> commit ("main" is added)
  std::map<std::string, FakeFile> files;
  bool gated = false;                    // resolve answers 401 GatedRepo
  std::string token;                     // non-empty: private, needs "Bearer <token>"
};

class FakeHub {
 public:
  FakeHub();
  ~FakeHub();
  std::string endpoint() const;
  void add_repo(FakeRepo repo);

  // The next `n` GETs of LFS bytes send the headers and half of the asked bytes, then close.
  std::atomic<int> drops{0};
  // The Range headers of LFS GETs ("" when none), in order.
  std::vector<std::string> lfs_ranges() const;
  // How many GET requests of /lfs/ and of /resolve/ arrived.
  std::atomic<int> lfs_gets{0}, resolve_requests{0}, api_requests{0};
  // The Authorization header of the last request.
  std::string last_authorization() const;

 private:
  void routes();
  const FakeRepo* find(const std::string& id) const;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, std::string> lfs_;  // sha256 -> bytes
  std::vector<std::string> ranges_;
  std::string last_auth_;
};

// Hashes computed here, independently of bertkit: git's blob sha1 ("blob <n>\0" + bytes) and sha256.
std::string git_blob_sha1(const std::string& content);
std::string sha256_hex(const std::string& content);

}  // namespace bertkit::test
