// Safetensors reader/writer: round trips, the fixture files, and hand-built
// malformed files that must be InputErrors naming the file (and tensor).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/safetensors.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

std::string with_len(const std::string& header, const std::string& data, int64_t claimed = -1) {
  uint64_t n = claimed >= 0 ? static_cast<uint64_t>(claimed) : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string write_tmp(const std::string& bytes, const std::string& name = "t.safetensors") {
  std::string path = make_temp_dir("st") + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Expect an InputError whose message contains every fragment.
void expect_input_error(const std::string& bytes, const std::vector<std::string>& fragments) {
  std::string path = write_tmp(bytes);
  try {
    SafetensorsReader r(path);
    FAIL() << "no error for a malformed file; expected " << fragments[0];
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

TEST(Safetensors, WriteThenReadRoundTripsEveryDtype) {
  std::string dir = make_temp_dir("st");
  std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f};
  std::vector<int64_t> i64 = {1, -2, 1LL << 40};
  std::vector<uint8_t> bytes = {0, 1, 255};
  uint16_t half[2] = {0x3c00, 0xc000};  // 1.0, -2.0 in fp16
  std::vector<StTensorView> views = {
      {"w", StDType::F32, {2, 3}, f.data(), f.size() * 4},
      {"ids", StDType::I64, {3}, i64.data(), i64.size() * 8},
      {"mask", StDType::BOOL, {3}, bytes.data(), 3},
      {"u8", StDType::U8, {1, 3}, bytes.data(), 3},
      {"h", StDType::F16, {2}, half, 4},
      {"empty", StDType::BF16, {0, 4}, nullptr, 0},
  };
  write_safetensors(dir + "/a.safetensors", views, {{"format", "pt"}});
  SafetensorsReader r(dir + "/a.safetensors");
  EXPECT_EQ(r.metadata().at("format"), "pt");
  EXPECT_EQ(r.tensors().size(), 6u);
  EXPECT_EQ(r.info("w").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.info("w").dtype, StDType::F32);
  EXPECT_EQ(std::memcmp(r.data("w"), f.data(), 24), 0);
  EXPECT_EQ(std::memcmp(r.data("ids"), i64.data(), 24), 0);
  EXPECT_EQ(std::memcmp(r.data("h"), half, 4), 0);
  EXPECT_EQ(r.info("empty").nbytes(), 0u);
  EXPECT_EQ(r.info("mask").dtype, StDType::BOOL);
  // The header is 8-byte aligned (safetensors convention).
  std::ifstream in(dir + "/a.safetensors", std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  EXPECT_EQ(len[0] % 8, 0);
  EXPECT_THROW(r.info("nope"), InputError);
}

TEST(Safetensors, WriterRejectsByteCountThatDisagreesWithShape) {
  std::vector<float> f(3);
  std::string dir = make_temp_dir("st");
  EXPECT_THROW(write_safetensors(dir + "/x.safetensors", {{"w", StDType::F32, {2, 2}, f.data(), 12}}), Error);
  EXPECT_FALSE(path_exists(dir + "/x.safetensors"));
}

TEST(Safetensors, ReadsTheHfFixture) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls/model.safetensors");
  SafetensorsReader r(shared_path("fixtures/hf-tiny/seqcls/model.safetensors"));
  const auto& info = r.info("classifier.weight");
  EXPECT_EQ(info.shape, (std::vector<int64_t>{3, 64}));
  EXPECT_EQ(info.dtype, StDType::F32);
  EXPECT_EQ(r.info("bert.embeddings.word_embeddings.weight").shape, (std::vector<int64_t>{1000, 64}));
  EXPECT_EQ(r.metadata().at("format"), "pt");
}

TEST(Safetensors, TruncatedLengthPrefix) { expect_input_error(std::string(5, '\0'), {"truncated"}); }

TEST(Safetensors, HeaderLongerThanFile) {
  std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  expect_input_error(with_len(h, std::string(4, '\0'), 1 << 20), {"header length", "longer than the file"});
}

TEST(Safetensors, HeaderLengthHuge) {
  expect_input_error(with_len("{}", "", static_cast<int64_t>(0x7fffffffffffffffLL)), {"longer than the file"});
}

TEST(Safetensors, HeaderNotJson) { expect_input_error(with_len("{not json", ""), {"not valid JSON"}); }

TEST(Safetensors, HeaderNotAnObject) { expect_input_error(with_len("[1, 2]   ", ""), {"'{'"}); }

TEST(Safetensors, DataTruncated) {
  std::string h = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  expect_input_error(with_len(h, std::string(8, '\0')), {"tensor 'a'", "past the end"});
}

TEST(Safetensors, OverlappingTensors) {
  std::string h =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_input_error(with_len(h, std::string(12, '\0')), {"'a'", "'b'", "overlap"});
}

TEST(Safetensors, UnknownDtype) {
  std::string h = R"({"a":{"dtype":"F8_E9","shape":[2],"data_offsets":[0,2]}})";
  expect_input_error(with_len(h, std::string(2, '\0')), {"tensor 'a'", "F8_E9"});
}

TEST(Safetensors, DtypeTimesShapeDisagreesWithOffsets) {
  std::string h = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})";
  expect_input_error(with_len(h, std::string(24, '\0')), {"tensor 'w'", "24", "20"});
}

TEST(Safetensors, NegativeShape) {
  std::string h = R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})";
  expect_input_error(with_len(h, std::string(4, '\0')), {"tensor 'w'", "non-negative"});
}

TEST(Safetensors, ShapeOverflow) {
  std::string h =
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})";
  expect_input_error(with_len(h, std::string(4, '\0')), {"tensor 'w'"});
}

TEST(Safetensors, BeginAfterEnd) {
  std::string h = R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})";
  expect_input_error(with_len(h, std::string(4, '\0')), {"tensor 'w'", "begin > end"});
}

TEST(Safetensors, MissingField) {
  std::string h = R"({"w":{"dtype":"U8","shape":[1]}})";
  expect_input_error(with_len(h, std::string(1, '\0')), {"tensor 'w'", "data_offsets"});
}

TEST(Safetensors, ExtraField) {
  std::string h = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})";
  expect_input_error(with_len(h, std::string(1, '\0')), {"tensor 'w'", "'x'"});
}

TEST(Safetensors, MetadataMustBeStrings) {
  std::string h = R"({"__metadata__":{"format":3}})";
  expect_input_error(with_len(h, ""), {"__metadata__", "format"});
}

TEST(Safetensors, MissingFileIsInputError) {
  EXPECT_THROW(SafetensorsReader("/nonexistent/x.safetensors"), InputError);
}

TEST(Safetensors, EveryDtypeName) {
  for (const char* n : {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"})
    EXPECT_EQ(st_dtype_name(parse_st_dtype(n)), std::string(n));
  EXPECT_EQ(st_dtype_size(StDType::BF16), 2u);
  EXPECT_EQ(st_dtype_size(StDType::F64), 8u);
  EXPECT_THROW(parse_st_dtype("F8"), InputError);
}

}  // namespace
}  // namespace bertkit::test
