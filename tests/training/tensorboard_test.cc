// TensorBoard event files: CRC-32C against published vectors, records decoded back,
// and every record decoded by protobuf itself (protoc, Debian's protobuf-compiler)
// with its CRCs recomputed bit by bit from the CRC-32C definition.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/training/tensorboard.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;

TEST(TensorBoard, Crc32cKnownVectors) {
  // RFC 3720 (iSCSI) B.4 and the common check value.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(""), 0u);
  // masked = rotr(crc, 15) + 0xa282ead8
  uint32_t c = 0xE3069283u;
  EXPECT_EQ(masked_crc32c("123456789"), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TensorBoard, FileDecodesBackWithVersionAndScalars) {
  std::string dir = test::make_temp_dir();
  std::string path;
  {
    TensorBoardWriter w(dir + "/tb");
    w.add_scalar("train/loss", 2.5, 10, 1000.0);
    w.add_scalar("train/lr", 1e-4, 10, 1000.5);
    w.add_scalar("eval/accuracy", 0.75, 300, 1001.0);
    path = w.path();
  }
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
  auto ev = read_tensorboard_events(path);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].file_version, "brain.Event:2");
  EXPECT_TRUE(ev[0].scalars.empty());
  ASSERT_EQ(ev[1].scalars.size(), 1u);
  EXPECT_EQ(ev[1].scalars[0].first, "train/loss");
  EXPECT_FLOAT_EQ(ev[1].scalars[0].second, 2.5f);
  EXPECT_EQ(ev[1].step, 10);
  EXPECT_DOUBLE_EQ(ev[1].wall_time, 1000.0);
  EXPECT_FLOAT_EQ(ev[2].scalars[0].second, 1e-4f);
  EXPECT_EQ(ev[3].step, 300);
  EXPECT_EQ(ev[3].scalars[0].first, "eval/accuracy");

  // The first record byte for byte: length 8 bytes LE, masked CRC of them, data, masked CRC of data.
  std::string bytes = read_file(path);
  uint64_t len;
  std::memcpy(&len, bytes.data(), 8);
  std::string data = bytes.substr(12, len);
  // Event{wall_time(1, fixed64), step(2, varint 0), file_version(3, "brain.Event:2")}
  EXPECT_EQ(static_cast<unsigned char>(data[0]), 0x09);
  EXPECT_EQ(static_cast<unsigned char>(data[9]), 0x10);
  EXPECT_EQ(static_cast<unsigned char>(data[10]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(data[11]), 0x1a);
  EXPECT_EQ(static_cast<unsigned char>(data[12]), 13);
  EXPECT_EQ(data.substr(13), "brain.Event:2");
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + 12 + len, 4);
  EXPECT_EQ(crc, masked_crc32c(data));

  // A flipped byte is detected.
  bytes[bytes.size() - 6] ^= 0x40;
  write_file_atomic(dir + "/bad", bytes);
  EXPECT_THROW(read_tensorboard_events(dir + "/bad"), InputError);
  fs::remove_all(dir);
}

namespace {

// CRC-32C from its definition, one bit at a time (reflected polynomial
// 0x82F63B78): independent of bertkit's table-driven crc32c.
uint32_t crc32c_bitwise(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// TFRecord's mask: rotate right by 15, add 0xa282ead8.
uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t le32(const std::string& b, std::size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// The payloads of a TFRecord file (uint64 length, masked CRC of the length
// bytes, data, masked CRC of the data), checking the framing and both CRCs.
std::vector<std::string> tfrecord_payloads(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    EXPECT_LE(at + 12, bytes.size()) << "truncated record header at byte " << at;
    if (at + 12 > bytes.size()) break;
    uint64_t len = le32(bytes, at) | (static_cast<uint64_t>(le32(bytes, at + 4)) << 32);
    EXPECT_EQ(le32(bytes, at + 8), mask(crc32c_bitwise(bytes.substr(at, 8)))) << "length CRC at byte " << at;
    EXPECT_LE(at + 12 + len + 4, bytes.size()) << "truncated record at byte " << at;
    if (at + 12 + len + 4 > bytes.size()) break;
    std::string data = bytes.substr(at + 12, len);
    EXPECT_EQ(le32(bytes, at + 12 + len), mask(crc32c_bitwise(data))) << "data CRC at byte " << at;
    out.push_back(data);
    at += 12 + len + 4;
  }
  return out;
}

// One record as protobuf's text format, decoded by protoc as a tensorflow.Event
// (TensorFlow's field numbers and types: tests/fixtures/tensorboard/event.proto).
std::string protoc_decode(const std::string& record, const std::string& dir) {
  const std::string file = dir + "/record.bin";
  std::ofstream(file, std::ios::binary) << record;
  std::string text;
  int rc = test::run_stdout("protoc --proto_path=" + test::source_dir() +
                                "/tests/fixtures/tensorboard --decode=tensorflow.Event event.proto < " + file,
                            &text);
  EXPECT_EQ(rc, 0) << "protoc (Debian's protobuf-compiler, scripts/setup.sh) failed: " << text;
  return text;
}

}  // namespace

TEST(TensorBoard, ProtocDecodesEveryRecordAsATensorFlowEvent) {
  std::string dir = test::make_temp_dir();
  std::string path;
  {
    TensorBoardWriter w(dir + "/tb");
    w.add_scalar("train/loss", 2.5, 10, 1000.0);
    w.add_scalar("train/learning_rate", 0.0001, 10, 1000.5);
    w.add_scalar("eval/accuracy", 0.75, 300, 1001.0);
    path = w.path();
  }
  auto records = tfrecord_payloads(read_file(path));
  ASSERT_EQ(records.size(), 4u);

  // The header event: a wall time (now) and the file version TensorBoard expects.
  std::string header = protoc_decode(records[0], dir);
  EXPECT_EQ(header.rfind("wall_time: ", 0), 0u) << header;
  EXPECT_NE(header.find("\nfile_version: \"brain.Event:2\"\n"), std::string::npos) << header;
  EXPECT_EQ(header.find("summary"), std::string::npos) << header;

  EXPECT_EQ(protoc_decode(records[1], dir),
            "wall_time: 1000\nstep: 10\nsummary {\n  value {\n    tag: \"train/loss\"\n"
            "    simple_value: 2.5\n  }\n}\n");
  EXPECT_EQ(protoc_decode(records[2], dir),
            "wall_time: 1000.5\nstep: 10\nsummary {\n  value {\n    tag: \"train/learning_rate\"\n"
            "    simple_value: 0.0001\n  }\n}\n");
  EXPECT_EQ(protoc_decode(records[3], dir),
            "wall_time: 1001\nstep: 300\nsummary {\n  value {\n    tag: \"eval/accuracy\"\n"
            "    simple_value: 0.75\n  }\n}\n");
  fs::remove_all(dir);
}
