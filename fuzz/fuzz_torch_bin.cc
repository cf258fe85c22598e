// pytorch_model.bin: the input is the pickle (data.pkl) of a torch.save zip
// archive whose data/0 .. data/15 storages (4 KiB each) the harness supplies,
// so the fuzzer works on the pickle machine rather than on the zip container
// (LibTorch's own reader).
#include <caffe2/serialize/inline_container.h>

#include "bertkit/nn/torch_bin.h"
#include "fuzz_util.h"

namespace {
constexpr int kStorages = 16;
constexpr size_t kStorageBytes = 4096;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = bertkit::fuzz::work_dir() + "/pytorch_model.bin";
  {
    caffe2::serialize::PyTorchStreamWriter zip(path);
    zip.writeRecord("data.pkl", data, size);
    std::string storage(kStorageBytes, '\0');
    for (size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<char>(i * 7);
    for (int k = 0; k < kStorages; ++k) zip.writeRecord("data/" + std::to_string(k), storage.data(), storage.size());
    zip.writeEndOfFile();
  }
  bertkit::fuzz::expect_input_errors([&] { bertkit::read_torch_state_dict(path); });
  return 0;
}
