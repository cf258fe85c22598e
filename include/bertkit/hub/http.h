// The few HTTP requests the Hub needs, through libcurl: HEAD for a file's
// metadata (following only relative redirects, as huggingface_hub does, so an
// LFS file's 302 and its X-Linked-* headers are seen), GET of a small JSON
// answer, and GET of a file's bytes appended to an open file from an offset
// (Range), with redirects followed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

namespace bertkit::hub {

struct HttpResponse {
  long status = 0;      // 0: no HTTP answer (see `error`)
  std::string error;    // the transport error (DNS, connection, timeout, dropped connection)
  std::map<std::string, std::string> headers;  // of the last response, names lower-cased
  std::string body;     // GET of JSON, or an error answer's body
  std::string url;      // the URL that answered (after redirects)

  // A header's value, "" when absent; `name` in lower case.
  std::string header(const std::string& name) const;
  bool transport_failed() const { return status == 0; }
};

class HttpClient {
 public:
  // `token` is sent as "Authorization: Bearer" to `endpoint`'s host only.
  HttpClient(std::string endpoint, std::string token);

  HttpResponse head(const std::string& url) const;
  HttpResponse get(const std::string& url) const;
  // Append the body of `url` from byte `offset` on (a Range request when > 0)
  // to `out`. If the server ignores the Range (200), `out` is truncated and
  // `*offset` reset to 0. `on_bytes(n)` after each chunk written.
  HttpResponse get_to_file(const std::string& url, std::FILE* out, std::int64_t* offset,
                           const std::function<void(std::int64_t)>& on_bytes) const;

 private:
  std::string endpoint_host_;
  std::string token_;
};

// The URL's scheme://host:port, lower-cased ("" when not absolute).
std::string url_origin(const std::string& url);
// Percent-encode `s`, keeping unreserved characters and those in `safe`
// (Python's urllib.parse.quote).
std::string url_quote(const std::string& s, const std::string& safe = "/");

}  // namespace bertkit::hub
