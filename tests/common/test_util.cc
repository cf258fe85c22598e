#include "test_util.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace fs = std::filesystem;

namespace bertkit::test {

static std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

#ifndef BERTKIT_DEFAULT_SOURCE_DIR
#define BERTKIT_DEFAULT_SOURCE_DIR "."
#endif
#ifndef BERTKIT_DEFAULT_SHARED
#define BERTKIT_DEFAULT_SHARED BERTKIT_DEFAULT_SOURCE_DIR "/../shared"
#endif
#ifndef BERTKIT_DEFAULT_BINARY
#define BERTKIT_DEFAULT_BINARY "bertkit"
#endif

std::string source_dir() { return env_or("BERTKIT_SOURCE_DIR", BERTKIT_DEFAULT_SOURCE_DIR); }
std::string shared_dir() { return env_or("BERTKIT_SHARED", BERTKIT_DEFAULT_SHARED); }
bool shared_required() { return env_or("BERTKIT_REQUIRE_SHARED", "0") == "1"; }
std::string shared_path(const std::string& rel) { return shared_dir() + "/" + rel; }
std::string bertkit_binary() { return env_or("BERTKIT_BINARY", BERTKIT_DEFAULT_BINARY); }
bool path_exists(const std::string& p) { return fs::exists(p); }

std::string make_temp_dir(const std::string& prefix) {
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    fs::path p = fs::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
    if (fs::create_directory(p)) return p.string();
  }
  throw std::runtime_error("cannot create a temporary directory");
}

// Run a shell command line as given; its stdout goes to *output.
static int capture_stdout(const std::string& full, std::string* output) {
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  std::string out;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_command(const std::string& cmd, std::string* output) { return capture_stdout(cmd + " 2>&1", output); }

int run_stdout(const std::string& cmd, std::string* output) {
  return capture_stdout("{ " + cmd + "; } 2>/dev/null", output);
}

nlohmann::json run_json(const std::string& cmd) {
  // stdout alone is the JSON document; stderr goes to a file, shown on failure.
  const std::string err_path = make_temp_dir("bertkit-run-json") + "/stderr";
  std::string out;
  int rc = capture_stdout("{ " + cmd + "; } 2>" + err_path, &out);
  std::string err;
  {
    std::ifstream in(err_path);
    err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  fs::remove_all(fs::path(err_path).parent_path());
  EXPECT_EQ(rc, 0) << cmd << "\nstdout:\n" << out << "\nstderr:\n" << err;
  try {
    return nlohmann::json::parse(out);
  } catch (...) {
    ADD_FAILURE() << "not JSON on stdout from: " << cmd << "\n" << out << "\nstderr:\n" << err;
    return nlohmann::json();
  }
}

std::string cp_slice(const std::string& s, std::size_t a, std::size_t b) {
  std::size_t n = 0, ba = s.size(), bb = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (n == a) ba = i;
    if (n == b) {
      bb = i;
      break;
    }
    ++n;
  }
  return ba < bb ? s.substr(ba, bb - ba) : "";
}

}  // namespace bertkit::test
