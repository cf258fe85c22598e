#include "tiny_shards.h"

#include "bertkit/data/pretraining.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "test_util.h"

namespace bertkit::test {

const std::string& tiny_pretraining_shards() {
  static const std::string dir = [] {
    const std::string out = make_temp_dir("bertkit-shards");
    auto tok = load_tokenizer(shared_path(kTinyVocab));
    PrepareOptions o;
    o.inputs = {shared_path(kTinyCorpus)};
    o.output_dir = out;
    o.max_seq_length = 32;
    o.eval_documents = 10;
    o.max_documents = 150;
    o.progress = false;
    prepare_pretraining_data(o, *tok);
    return out;
  }();
  return dir;
}

}  // namespace bertkit::test
