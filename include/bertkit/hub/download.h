// Downloading a model from the Hub into the cache, as huggingface_hub's
// snapshot_download does: ask /api/models/{id}/revision/{rev} for the commit
// and the file list, pick the files a BERT needs (or those matching
// --include), and fetch each one (HEAD for its ETag/size, GET to
// blobs/<etag>.incomplete resumed with Range, size and LFS sha256 checked,
// then moved into place and linked from snapshots/<commit>/).
#pragma once

#include <string>
#include <vector>

#include "bertkit/hub/repo_id.h"
#include "bertkit/hub/settings.h"

namespace bertkit::hub {

struct DownloadOptions {
  // Python fnmatch globs (huggingface_hub's allow_patterns; a pattern ending in
  // '/' means the folder); empty: the files a BERT needs (select_model_files).
  std::vector<std::string> include;
  bool progress = true;  // a progress bar per file on stderr
};

// Returns the snapshot directory, <cache>/models--org--name/snapshots/<commit>.
std::string snapshot_download(const RepoRef& ref, const HubSettings& settings, const DownloadOptions& options = {});

// Of a repository's files, those a BERT needs: config.json, model.safetensors
// or its sharded index and shards (pytorch_model.bin only when there is no
// safetensors), tokenizer.json / vocab.txt / tokenizer_config.json /
// special_tokens_map.json / added_tokens.json / SentencePiece *.model, and
// sentence-transformers' modules.json, config_sentence_transformers.json,
// sentence_bert_config.json and the same files inside each module folder
// (0_Transformer/, 1_Pooling/, 2_Dense/, ...).
std::vector<std::string> select_model_files(const std::vector<std::string>& repo_files);

// The files matching any of `globs` (huggingface_hub's filter_repo_objects).
std::vector<std::string> filter_by_globs(const std::vector<std::string>& files, const std::vector<std::string>& globs);

}  // namespace bertkit::hub
