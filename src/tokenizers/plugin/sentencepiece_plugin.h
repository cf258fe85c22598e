// C interface of the SentencePiece plugin (libbertkit_sentencepiece.so).
//
// Why a plugin: Debian's libsentencepiece embeds protobuf-lite and exports its
// symbols, which clash with LibTorch's libprotobuf when both are loaded into one
// process (a crash during static initialisation). bertkit_text therefore never
// links libsentencepiece; it dlopen()s this plugin with RTLD_LOCAL|RTLD_DEEPBIND
// on first use, so SentencePiece binds to its own protobuf and nothing else sees it.
// Plain C types only: no C++ object or exception crosses the boundary.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bk_spm bk_spm;
typedef void (*bk_spm_piece_cb)(void* ctx, int id, unsigned begin, unsigned end);
typedef void (*bk_spm_bytes_cb)(void* ctx, const char* data, size_t size);

// Each returns 0 on success, else writes a message into err[errlen].
int bk_spm_load(const char* path, bk_spm** out, char* err, size_t errlen);
void bk_spm_free(bk_spm* spm);
int bk_spm_piece_size(const bk_spm* spm);
// Piece `id` (bytes) via cb; flags: 1 control, 2 unknown, 4 unused, 8 byte.
int bk_spm_piece(const bk_spm* spm, int id, bk_spm_bytes_cb cb, void* ctx);
int bk_spm_piece_flags(const bk_spm* spm, int id);
int bk_spm_unk_id(const bk_spm* spm);
int bk_spm_pad_id(const bk_spm* spm);
// Pieces of `text` with byte spans into `text`.
int bk_spm_encode(const bk_spm* spm, const char* text, size_t size, bk_spm_piece_cb cb, void* ctx, char* err,
                  size_t errlen);
int bk_spm_decode(const bk_spm* spm, const int* ids, size_t n, bk_spm_bytes_cb cb, void* ctx, char* err, size_t errlen);
int bk_spm_serialized(const bk_spm* spm, bk_spm_bytes_cb cb, void* ctx);
// SentencePieceTrainer::Train with key/value flags.
int bk_spm_train(const char* const* keys, const char* const* values, size_t n, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif
