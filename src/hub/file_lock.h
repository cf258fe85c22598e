// An exclusive lock on a lock file (flock), the kind huggingface_hub takes
// through `filelock` on .locks/models--org--name/<etag>.lock, so bertkit and
// Python processes downloading the same blob wait for each other. Mode 0664
// (group-writable), as huggingface_hub creates them; the files stay.
#pragma once

#include <string>

namespace bertkit::hub {

class FileLock {
 public:
  explicit FileLock(const std::string& path);  // blocks until held
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace bertkit::hub
