#include "bertkit/training/tensorboard.h"

#include <array>
#include <chrono>
#include <cstring>

#include <unistd.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"

namespace bertkit {

namespace {
std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    t[i] = c;
  }
  return t;
}

// Protobuf wire encoding.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, uint32_t field, uint32_t wire_type) { put_varint(out, (field << 3) | wire_type); }
template <class T>
void put_fixed(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));  // little-endian hosts (x86, ARM)
}
void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string encode_event(double wall_time, int64_t step, const std::string* file_version,
                         const std::string* tag, float value) {
  std::string ev;
  put_tag(ev, 1, 1);  // wall_time: double (fixed64)
  put_fixed<double>(ev, wall_time);
  put_tag(ev, 2, 0);  // step: int64 varint
  put_varint(ev, static_cast<uint64_t>(step));
  if (file_version) put_bytes(ev, 3, *file_version);
  if (tag) {
    std::string val;
    put_bytes(val, 1, *tag);  // Value.tag
    put_tag(val, 2, 5);       // Value.simple_value: float (fixed32)
    put_fixed<float>(val, value);
    std::string summary;
    put_bytes(summary, 1, val);  // Summary.value
    put_bytes(ev, 5, summary);   // Event.summary
  }
  return ev;
}

// Minimal protobuf reader for the subset above.
struct PbReader {
  std::string_view s;
  std::size_t pos = 0;
  const std::string& where;
  bool done() const { return pos >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= s.size()) throw InputError(where + ": truncated varint");
      uint8_t b = static_cast<uint8_t>(s[pos++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw InputError(where + ": bad varint");
  }
  std::string_view bytes(std::size_t n) {
    if (pos + n > s.size()) throw InputError(where + ": truncated field");
    auto v = s.substr(pos, n);
    pos += n;
    return v;
  }
  void skip(uint32_t wire) {
    if (wire == 0) varint();
    else if (wire == 1) bytes(8);
    else if (wire == 5) bytes(4);
    else if (wire == 2) bytes(varint());
    else throw InputError(where + ": unsupported wire type " + std::to_string(wire));
  }
};
}  // namespace

uint32_t crc32c(std::string_view data) {
  static const auto table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : data) c = table[(c ^ ch) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::string_view data) {
  uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) {
  make_dirs(log_dir);
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  static int counter = 0;
  path_ = log_dir + "/events.out.tfevents." + std::to_string(static_cast<long long>(now_seconds())) + "." + host +
          (counter++ ? "." + std::to_string(counter) : std::string());
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) throw RuntimeError(path_ + ": cannot create TensorBoard event file");
  const std::string version = "brain.Event:2";
  write_record(encode_event(now_seconds(), 0, &version, nullptr, 0.f));
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::write_record(const std::string& data) {
  std::string rec;
  uint64_t len = data.size();
  std::string len_bytes(reinterpret_cast<const char*>(&len), 8);
  rec += len_bytes;
  put_fixed<uint32_t>(rec, masked_crc32c(len_bytes));
  rec += data;
  put_fixed<uint32_t>(rec, masked_crc32c(data));
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size()) throw RuntimeError(path_ + ": write failed");
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step, double wall_time) {
  write_record(encode_event(wall_time >= 0 ? wall_time : now_seconds(), step, nullptr, &tag, static_cast<float>(value)));
}

void TensorBoardWriter::flush() { std::fflush(file_); }

std::vector<TensorBoardEvent> read_tensorboard_events(const std::string& path) {
  std::string data = read_file(path);
  std::vector<TensorBoardEvent> events;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (pos + 12 > data.size()) throw InputError(path + ": truncated record header at byte " + std::to_string(pos));
    uint64_t len;
    uint32_t len_crc, data_crc;
    std::memcpy(&len, data.data() + pos, 8);
    std::memcpy(&len_crc, data.data() + pos + 8, 4);
    if (len_crc != masked_crc32c(std::string_view(data.data() + pos, 8)))
      throw InputError(path + ": length CRC mismatch at byte " + std::to_string(pos));
    if (pos + 12 + len + 4 > data.size()) throw InputError(path + ": truncated record at byte " + std::to_string(pos));
    std::string_view body(data.data() + pos + 12, len);
    std::memcpy(&data_crc, data.data() + pos + 12 + len, 4);
    if (data_crc != masked_crc32c(body)) throw InputError(path + ": data CRC mismatch at byte " + std::to_string(pos));
    pos += 12 + len + 4;

    TensorBoardEvent ev;
    PbReader r{body, 0, path};
    while (!r.done()) {
      uint64_t key = r.varint();
      uint32_t field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
      if (field == 1 && wire == 1) {
        auto b = r.bytes(8);
        std::memcpy(&ev.wall_time, b.data(), 8);
      } else if (field == 2 && wire == 0) {
        ev.step = static_cast<int64_t>(r.varint());
      } else if (field == 3 && wire == 2) {
        ev.file_version = std::string(r.bytes(r.varint()));
      } else if (field == 5 && wire == 2) {
        PbReader summary{r.bytes(r.varint()), 0, path};
        while (!summary.done()) {
          uint64_t k = summary.varint();
          if ((k >> 3) != 1 || (k & 7) != 2) {
            summary.skip(static_cast<uint32_t>(k & 7));
            continue;
          }
          PbReader value{summary.bytes(summary.varint()), 0, path};
          std::string tag;
          float v = 0;
          while (!value.done()) {
            uint64_t vk = value.varint();
            if ((vk >> 3) == 1 && (vk & 7) == 2) tag = std::string(value.bytes(value.varint()));
            else if ((vk >> 3) == 2 && (vk & 7) == 5) std::memcpy(&v, value.bytes(4).data(), 4);
            else value.skip(static_cast<uint32_t>(vk & 7));
          }
          ev.scalars.emplace_back(tag, v);
        }
      } else {
        r.skip(wire);
      }
    }
    events.push_back(std::move(ev));
  }
  return events;
}

}  // namespace bertkit
