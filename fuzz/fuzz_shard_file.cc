// A binary pretraining shard (train-00000.bin): header, instance table and
// ids, every instance read back.
#include "bertkit/data/shards.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = bertkit::fuzz::write_input("train-00000.bin", bertkit::fuzz::as_text(data, size));
  bertkit::fuzz::expect_input_errors([&] {
    bertkit::ShardReader shard(path);
    for (int64_t i = 0; i < shard.size(); ++i) {
      auto view = shard.get(i);
      view.a();
      view.b();
    }
  });
  return 0;
}
