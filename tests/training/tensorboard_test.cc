// TensorBoard event files: CRC-32C against published vectors, records decoded back.
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
