// Files of a model directory that came from elsewhere (the Hub, a colleague,
// an archive): names inside it (weight_map shards, sentence-transformers
// module paths) and symbolic links must not lead bertkit to read outside it.
#pragma once

#include <string>

namespace bertkit {

// `dir`/`name` after checking that it stays inside `dir`: InputError naming
// `where` (the file that gave the name) when `name` is absolute or climbs out
// with "..", or when the path exists and, through symbolic links, resolves
// outside `dir`. A Hub cache snapshot (<repo>/snapshots/<commit>/) may link
// into <repo>/blobs/, as the HuggingFace cache does.
std::string model_file(const std::string& dir, const std::string& name, const std::string& where);

}  // namespace bertkit
