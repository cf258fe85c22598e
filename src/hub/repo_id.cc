#include "bertkit/hub/repo_id.h"

#include <cctype>
#include <regex>

namespace bertkit::hub {

namespace {

bool fail(std::string* why, const std::string& msg) {
  if (why) *why = msg;
  return false;
}

// huggingface_hub.utils.validate_repo_id: [\w\-.]{1,96} parts, at most one '/',
// no "--" or "..", no leading/trailing '-' or '.', not ending in ".git".
bool valid_repo_id(const std::string& id, std::string* why) {
  static const std::regex pattern(R"(^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$)");
  if (id.empty()) return fail(why, "the name is empty");
  if (!std::regex_match(id, pattern))
    return fail(why, "expected `name` or `org/name` made of letters, digits, '-', '_' and '.' (at most 96 each)");
  if (id.find("--") != std::string::npos || id.find("..") != std::string::npos)
    return fail(why, "'--' and '..' are not allowed in a repository id");
  if (id.size() >= 4 && id.compare(id.size() - 4, 4, ".git") == 0) return fail(why, "a repository id cannot end in .git");
  return true;
}

// A revision becomes a path under refs/ (e.g. refs/pr/1): no empty, '.' or '..' parts.
bool valid_revision(const std::string& rev, std::string* why) {
  if (rev.empty()) return fail(why, "the revision after '@' is empty");
  std::size_t start = 0;
  while (start <= rev.size()) {
    std::size_t end = rev.find('/', start);
    if (end == std::string::npos) end = rev.size();
    std::string part = rev.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return fail(why, "revision '" + rev + "' has an empty, '.' or '..' path component");
    start = end + 1;
  }
  for (char c : rev)
    if (std::iscntrl(static_cast<unsigned char>(c)) || c == '\\')
      return fail(why, "revision '" + rev + "' contains a control character or a backslash");
  return true;
}

}  // namespace

std::optional<RepoRef> parse_repo_ref(const std::string& s, std::string* why) {
  RepoRef ref;
  std::size_t at = s.find('@');
  ref.repo_id = s.substr(0, at);
  if (at != std::string::npos) ref.revision = s.substr(at + 1);
  if (!valid_repo_id(ref.repo_id, why) || !valid_revision(ref.revision, why)) return std::nullopt;
  return ref;
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models";
  std::size_t start = 0;
  while (true) {
    std::size_t slash = repo_id.find('/', start);
    out += "--" + repo_id.substr(start, slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

bool is_commit_hash(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (char c : revision)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace bertkit::hub
