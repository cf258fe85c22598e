#include "bertkit/hub/http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "bertkit/version.h"

namespace bertkit::hub {

namespace {

// HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10 each).
long env_seconds(const char* name, long fallback) {
  const char* v = std::getenv(name);
  long n = v ? std::atol(v) : 0;
  return n > 0 ? n : fallback;
}

struct Transfer {
  HttpResponse* response;
  std::FILE* out = nullptr;
  std::int64_t* offset = nullptr;
  const std::function<void(std::int64_t)>* on_bytes = nullptr;
  CURL* curl = nullptr;
  bool body_checked = false;
  bool to_file = false;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after a redirect or 100-continue)
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    t->response->headers[lower(line.substr(0, colon))] = value;
  }
  return size * n;
}

// The body goes to the file only for a 200/206 answer; an error answer's body
// is kept in memory for the message.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t bytes = size * n;
  if (!t->body_checked) {
    t->body_checked = true;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    t->to_file = t->out && (code == 200 || code == 206);
    if (t->to_file && code == 200 && *t->offset > 0) {  // Range ignored: start over
      if (std::fflush(t->out) != 0 || ftruncate(fileno(t->out), 0) != 0 || std::fseek(t->out, 0, SEEK_SET) != 0)
        return 0;
      (*t->on_bytes)(-*t->offset);
      *t->offset = 0;
    }
  }
  if (!t->to_file) {
    t->response->body.append(data, bytes);
    return bytes;
  }
  if (std::fwrite(data, 1, bytes, t->out) != bytes) return 0;
  *t->offset += static_cast<std::int64_t>(bytes);
  (*t->on_bytes)(static_cast<std::int64_t>(bytes));
  return bytes;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string url_origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  auto host_end = url.find_first_of("/?#", scheme_end + 3);
  return lower(url.substr(0, host_end));
}

std::string url_quote(const std::string& s, const std::string& safe) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || safe.find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpClient::HttpClient(std::string endpoint, std::string token)
    : endpoint_host_(url_origin(endpoint)), token_(std::move(token)) {
  global_init();
}

namespace {

enum class Method { Head, Get };

HttpResponse perform(const std::string& url, Method method, bool follow, const std::string& auth_origin,
                     const std::string& token, std::FILE* out, std::int64_t* offset,
                     const std::function<void(std::int64_t)>* on_bytes) {
  HttpResponse r;
  CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_slist* raw = nullptr;
  // Sizes must be the real ones: no compression (huggingface_hub sends the same).
  raw = curl_slist_append(raw, "Accept-Encoding: identity");
  if (!token.empty() && url_origin(url) == auth_origin)
    raw = curl_slist_append(raw, ("Authorization: Bearer " + token).c_str());
  if (offset && *offset > 0) raw = curl_slist_append(raw, ("Range: bytes=" + std::to_string(*offset) + "-").c_str());
  HeaderList headers(raw, curl_slist_free_all);
  Transfer t{&r, out, offset, on_bytes, curl.get()};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "bertkit/" BERTKIT_VERSION_STRING);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, env_seconds("HF_HUB_ETAG_TIMEOUT", 10));
  // A stalled transfer (under 1 byte/s for the download timeout) is an error.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  if (method == Method::Head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  CURLcode rc = curl_easy_perform(c);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  r.url = effective ? effective : url;
  if (rc != CURLE_OK) {
    r.error = curl_easy_strerror(rc);
    r.status = 0;
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

// Resolve a Location header against the URL that sent it.
std::string resolve_location(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (!location.empty() && location[0] == '/') return url_origin(base) + location;
  return base.substr(0, base.rfind('/') + 1) + location;
}

}  // namespace

HttpResponse HttpClient::head(const std::string& url) const {
  // huggingface_hub follows relative redirects only (a renamed repository);
  // an absolute one (LFS on a CDN) is returned, with its X-Linked-* headers.
  std::string current = url;
  for (int hop = 0; hop < 10; ++hop) {
    HttpResponse r = perform(current, Method::Head, false, endpoint_host_, token_, nullptr, nullptr, nullptr);
    std::string location = r.header("location");
    bool relative = !location.empty() && location.find("://") == std::string::npos;
    if (r.status / 100 != 3 || !relative) return r;
    current = resolve_location(current, location);
  }
  HttpResponse r;
  r.error = "too many redirects from " + url;
  return r;
}

HttpResponse HttpClient::get(const std::string& url) const {
  return perform(url, Method::Get, true, endpoint_host_, token_, nullptr, nullptr, nullptr);
}

HttpResponse HttpClient::get_to_file(const std::string& url, std::FILE* out, std::int64_t* offset,
                                     const std::function<void(std::int64_t)>& on_bytes) const {
  return perform(url, Method::Get, true, endpoint_host_, token_, out, offset, &on_bytes);
}

}  // namespace bertkit::hub
