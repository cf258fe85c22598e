// Loading models from elsewhere is safe (issue 12, item 3): the pickle reader
// of pytorch_model.bin executes nothing and refuses every global a state dict
// does not need; sizes are checked before any allocation; a model directory's
// names and symbolic links cannot make bertkit read outside it.
#include <filesystem>
#include <fstream>

#include <caffe2/serialize/inline_container.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/nn/torch_bin.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

namespace fs = std::filesystem;

// A torch.save archive: data.pkl plus one float storage data/0 of `floats` elements.
std::string write_bin(const std::string& dir, const std::string& name, const std::string& pickle, size_t floats = 4) {
  const std::string path = dir + "/" + name;
  caffe2::serialize::PyTorchStreamWriter w(path);
  w.writeRecord("data.pkl", pickle.data(), pickle.size());
  std::vector<float> storage(floats, 1.5f);
  w.writeRecord("data/0", storage.data(), storage.size() * 4);
  w.writeEndOfFile();
  return path;
}

std::string error_of(const std::string& path) {
  try {
    read_torch_state_dict(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// Pickle opcodes (protocol 2) written out by hand.
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string unicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
  return out + s;
}
std::string int1(int v) { return std::string("K") + static_cast<char>(v); }
std::string int4(int32_t v) {
  std::string out = "J";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff));
  return out;
}
// LONG1 of 8 bytes.
std::string int8(int64_t v) {
  std::string out = "\x8a\x08";
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  return out;
}
const std::string kProto = "\x80\x02";
// {"w": _rebuild_tensor_v2(storage data/0, offset, size, stride, False, OrderedDict())}
std::string state_dict_with(const std::string& size_tuple, const std::string& stride_tuple, int offset = 0) {
  std::string storage = "(" + unicode("storage") + global("torch", "FloatStorage") + unicode("0") + unicode("cpu") +
                        int1(4) + "tQ";
  return kProto + "}" + unicode("w") + global("torch._utils", "_rebuild_tensor_v2") + "(" + storage + int1(offset) +
         size_tuple + stride_tuple + "\x89" + global("collections", "OrderedDict") + ")Rt" + "R" + "s.";
}

TEST(LoadSecurity, TorchBinAcceptsAPlainStateDict) {
  std::string dir = make_temp_dir("torchbin-ok");
  auto sd = read_torch_state_dict(write_bin(dir, "ok.bin", state_dict_with("(" + int1(2) + int1(2) + "t", "(" + int1(2) + int1(1) + "t")));
  ASSERT_EQ(sd.count("w"), 1u);
  EXPECT_TRUE(torch::equal(sd.at("w"), torch::full({2, 2}, 1.5f)));
}

TEST(LoadSecurity, TorchBinRefusesGlobalsAStateDictDoesNotNeed) {
  std::string dir = make_temp_dir("torchbin-globals");
  // The classic: os.system("touch PWNED") through GLOBAL + REDUCE.
  const std::string marker = dir + "/PWNED";
  std::string os_system = kProto + global("os", "system") + unicode("touch " + marker) + "\x85R.";
  std::string msg = error_of(write_bin(dir, "os_system.bin", os_system));
  EXPECT_NE(msg.find("os.system"), std::string::npos) << msg;
  EXPECT_NE(msg.find("os_system.bin"), std::string::npos) << msg;
  EXPECT_FALSE(path_exists(marker));
  // The same through STACK_GLOBAL (protocol 4), and a global never called (only named).
  std::string stack_global = kProto + unicode("builtins") + unicode("eval") + "\x93" + unicode("1") + "\x85R.";
  msg = error_of(write_bin(dir, "eval.bin", stack_global));
  EXPECT_NE(msg.find("builtins.eval"), std::string::npos) << msg;
  std::string named_only = kProto + "}" + unicode("x") + global("subprocess", "Popen") + "s.";
  msg = error_of(write_bin(dir, "named.bin", named_only));
  EXPECT_NE(msg.find("subprocess.Popen"), std::string::npos) << msg;
  // A torch global outside the state-dict set (torch.load would call it).
  msg = error_of(write_bin(dir, "torch_load.bin", kProto + global("torch", "load") + unicode("x") + "\x85R."));
  EXPECT_NE(msg.find("torch.load"), std::string::npos) << msg;
}

TEST(LoadSecurity, TorchBinChecksSizesBeforeAllocating) {
  std::string dir = make_temp_dir("torchbin-sizes");
  // 2^40 elements repeating one float (stride 0): 4 TiB from a few bytes of pickle.
  std::string broadcast = state_dict_with("(" + int8(int64_t{1} << 40) + "t", "(" + int1(0) + "t");
  std::string msg = error_of(write_bin(dir, "broadcast.bin", broadcast));
  EXPECT_NE(msg.find("repeats a storage"), std::string::npos) << msg;
  // size x stride overflowing int64 must not wrap back inside the storage.
  std::string wrap = state_dict_with("(" + int8(int64_t{1} << 62) + int1(2) + "t", "(" + int1(4) + int1(1) + "t");
  msg = error_of(write_bin(dir, "wrap.bin", wrap));
  EXPECT_NE(msg.find("past its storage"), std::string::npos) << msg;
  // A view past the storage's 4 elements.
  msg = error_of(write_bin(dir, "past.bin", state_dict_with("(" + int1(5) + "t", "(" + int1(1) + "t")));
  EXPECT_NE(msg.find("past its storage"), std::string::npos) << msg;
  msg = error_of(write_bin(dir, "negative.bin", state_dict_with("(" + int4(-3) + "t", "(" + int1(1) + "t")));
  EXPECT_NE(msg.find("negative"), std::string::npos) << msg;
}

TEST(LoadSecurity, TorchBinSurvivesACyclicPickle) {
  // A list appended into itself through the memo: no leak, no recursion (ASan/LSan builds check).
  std::string dir = make_temp_dir("torchbin-cycle");
  std::string cycle = kProto + std::string("]q\0h\0a.", 7);  // EMPTY_LIST BINPUT 0 BINGET 0 APPEND STOP
  std::string msg = error_of(write_bin(dir, "cycle.bin", cycle));
  EXPECT_NE(msg.find("not a state dict"), std::string::npos) << msg;
}

TEST(LoadSecurity, TorchBinZipRecordsCannotClaimMoreThanTheFile) {
  // A record whose central-directory entry claims 4 GiB (deflated, so LibTorch's
  // zip reader would accept it and allocate that much before extracting).
  std::string dir = make_temp_dir("torchbin-zip");
  std::string path = write_bin(dir, "claims.bin", state_dict_with("(" + int1(2) + "t", "(" + int1(1) + "t"));
  std::string bytes = read_file(path);
  size_t name = bytes.rfind("/data/0");  // the last occurrence: the central directory's
  ASSERT_NE(name, std::string::npos);
  size_t entry = bytes.rfind("PK\x01\x02", name);
  ASSERT_NE(entry, std::string::npos);
  bytes[entry + 10] = 8;  // method: deflate
  for (int i = 0; i < 4; ++i) bytes[entry + 24 + i] = static_cast<char>(i == 0 ? 0xf0 : 0xff);  // uncompressed size
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("claims 4294967280 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("claims.bin"), std::string::npos) << msg;
}

// A tiny valid weights file (its contents do not matter for these tests).
void write_weights(const std::string& path) {
  save_safetensors(path, {{"w", torch::ones({2})}});
}

TEST(LoadSecurity, ShardIndexNamesCannotLeaveTheModelDirectory) {
  std::string root = make_temp_dir("index-escape");
  std::string dir = root + "/model";
  make_dirs(dir);
  write_weights(root + "/outside.safetensors");
  for (const std::string& file : std::vector<std::string>{"../outside.safetensors", root + "/outside.safetensors", "sub/../../outside.safetensors"}) {
    write_file_atomic(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", {{"w", file}}}}.dump());
    try {
      read_checkpoint_weights(dir);
      FAIL() << file << ": no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("model.safetensors.index.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
}

TEST(LoadSecurity, SymlinksOutOfTheModelDirectoryAreRefused) {
  std::string root = make_temp_dir("symlink-escape");
  std::string dir = root + "/model";
  make_dirs(dir);
  write_weights(root + "/secret.safetensors");
  fs::create_symlink(root + "/secret.safetensors", dir + "/model.safetensors");
  try {
    read_checkpoint_weights(dir);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("outside the model directory"), std::string::npos) << e.what();
  }
  // A shard named by the index that links out.
  fs::remove(dir + "/model.safetensors");
  fs::create_symlink("../secret.safetensors", dir + "/shard.safetensors");
  write_file_atomic(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", {{"w", "shard.safetensors"}}}}.dump());
  EXPECT_THROW(read_checkpoint_weights(dir), InputError);
  // config.json read by load_pretrained: the same rule.
  std::string cfg_dir = root + "/cfg";
  make_dirs(cfg_dir);
  write_file_atomic(root + "/config.json", "{}");
  fs::create_symlink("../config.json", cfg_dir + "/config.json");
  try {
    LoadOptions o;
    o.verbose = false;
    load_pretrained(cfg_dir, o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("outside the model directory"), std::string::npos) << e.what();
  }
  // A link inside the directory is fine.
  write_weights(dir + "/real.safetensors");
  fs::remove(dir + "/shard.safetensors");
  fs::create_symlink("real.safetensors", dir + "/shard.safetensors");
  EXPECT_EQ(read_checkpoint_weights(dir).count("w"), 1u);
}

}  // namespace
}  // namespace bertkit::test
