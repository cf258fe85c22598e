// The SentencePiece plugin: see sentencepiece_plugin.h for why it exists.
// (The .cpp extension keeps it out of bertkit_text's src/tokenizers/*.cc glob;
// CMakeLists.txt builds it as the MODULE bertkit_sentencepiece.)
#include "sentencepiece_plugin.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

// Exported by libsentencepiece (common.h is not installed). Its LOG(INFO)
// lines write to std::cerr, which under RTLD_DEEPBIND binds to libstdc++'s own
// (uninitialised) stream rather than the program's: keep them off.
namespace sentencepiece {
namespace logging {
void SetMinLogLevel(int v);
}
}  // namespace sentencepiece

struct bk_spm {
  sentencepiece::SentencePieceProcessor sp;
};

namespace {
int fail(char* err, size_t errlen, const std::string& msg) {
  if (err && errlen) {
    std::strncpy(err, msg.c_str(), errlen - 1);
    err[errlen - 1] = '\0';
  }
  return 1;
}
}  // namespace

extern "C" {

int bk_spm_load(const char* path, bk_spm** out, char* err, size_t errlen) {
  try {
    sentencepiece::logging::SetMinLogLevel(2);
    auto* s = new bk_spm();
    auto status = s->sp.Load(path);
    if (!status.ok()) {
      delete s;
      return fail(err, errlen, status.ToString());
    }
    *out = s;
    return 0;
  } catch (const std::exception& e) {
    return fail(err, errlen, e.what());
  }
}

void bk_spm_free(bk_spm* spm) { delete spm; }

int bk_spm_piece_size(const bk_spm* spm) { return spm->sp.GetPieceSize(); }

int bk_spm_piece(const bk_spm* spm, int id, bk_spm_bytes_cb cb, void* ctx) {
  if (id < 0 || id >= spm->sp.GetPieceSize()) return 1;
  const std::string& p = spm->sp.IdToPiece(id);
  cb(ctx, p.data(), p.size());
  return 0;
}

int bk_spm_piece_flags(const bk_spm* spm, int id) {
  return (spm->sp.IsControl(id) ? 1 : 0) | (spm->sp.IsUnknown(id) ? 2 : 0) | (spm->sp.IsUnused(id) ? 4 : 0) |
         (spm->sp.IsByte(id) ? 8 : 0);
}

int bk_spm_unk_id(const bk_spm* spm) { return spm->sp.unk_id(); }
int bk_spm_pad_id(const bk_spm* spm) { return spm->sp.pad_id(); }

int bk_spm_encode(const bk_spm* spm, const char* text, size_t size, bk_spm_piece_cb cb, void* ctx, char* err,
                  size_t errlen) {
  try {
    auto spt = spm->sp.EncodeAsImmutableProto(std::string(text, size));
    for (const auto& p : spt.pieces()) cb(ctx, static_cast<int>(p.id()), p.begin(), p.end());
    return 0;
  } catch (const std::exception& e) {
    return fail(err, errlen, e.what());
  }
}

int bk_spm_decode(const bk_spm* spm, const int* ids, size_t n, bk_spm_bytes_cb cb, void* ctx, char* err,
                  size_t errlen) {
  try {
    std::string out;
    auto status = spm->sp.Decode(std::vector<int>(ids, ids + n), &out);
    if (!status.ok()) return fail(err, errlen, status.ToString());
    cb(ctx, out.data(), out.size());
    return 0;
  } catch (const std::exception& e) {
    return fail(err, errlen, e.what());
  }
}

int bk_spm_serialized(const bk_spm* spm, bk_spm_bytes_cb cb, void* ctx) {
  auto bytes = spm->sp.serialized_model_proto();
  cb(ctx, bytes.data(), bytes.size());
  return 0;
}

int bk_spm_train(const char* const* keys, const char* const* values, size_t n, char* err, size_t errlen) {
  try {
    sentencepiece::logging::SetMinLogLevel(2);  // errors only
    std::unordered_map<std::string, std::string> kw;
    for (size_t i = 0; i < n; ++i) kw[keys[i]] = values[i];
    auto status = sentencepiece::SentencePieceTrainer::Train(kw);
    if (!status.ok()) return fail(err, errlen, status.ToString());
    return 0;
  } catch (const std::exception& e) {
    return fail(err, errlen, e.what());
  }
}

}  // extern "C"
