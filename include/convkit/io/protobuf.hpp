#pragma once
// Protocol buffers' wire format, the part ONNX files use: varints, 64- and 32-bit fixed
// fields and length-delimited fields (strings, bytes, nested messages, packed arrays).
// The reader checks every length against what is left of its input, refuses groups and
// varints longer than ten bytes, and limits nesting; a problem is a ck::Error naming the
// file, the offset and the field.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convkit::io::protobuf {

/// Wire types.
enum class Wire : int { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

/// Builds a message: append fields in any order, then take bytes().
class Writer {
 public:
  /// An int64 / int32 / enum / bool field.
  Writer& varint(int field, uint64_t value) {
    key(field, Wire::Varint);
    put_varint(value);
    return *this;
  }
  /// A float field.
  Writer& fixed32(int field, float value) {
    key(field, Wire::Fixed32);
    uint32_t bits = 0;
    std::memcpy(&bits, &value, 4);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(bits >> (8 * i)));
    return *this;
  }
  /// A string, bytes or nested-message field.
  Writer& bytes(int field, const std::string& value) {
    key(field, Wire::Bytes);
    put_varint(value.size());
    bytes_ += value;
    return *this;
  }
  /// A nested message.
  Writer& message(int field, const Writer& m) { return bytes(field, m.bytes()); }
  /// A packed repeated int64 field.
  Writer& packed_varints(int field, const std::vector<int64_t>& values) {
    Writer packed;
    for (int64_t v : values) packed.put_varint(static_cast<uint64_t>(v));
    return bytes(field, packed.bytes_);
  }
  /// The encoded message.
  const std::string& bytes() const { return bytes_; }

 private:
  void key(int field, Wire wire) { put_varint(uint64_t(field) << 3 | uint64_t(wire)); }
  void put_varint(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }
  std::string bytes_;
};

/// One field read from a message: its number, wire type and value (a number for
/// varints and fixed fields, a byte range for length-delimited ones).
struct Field {
  int number = 0;                       ///< the field number
  Wire wire = Wire::Varint;             ///< how it is encoded
  uint64_t value = 0;                   ///< Varint, Fixed64, Fixed32: the bits
  const unsigned char* data = nullptr;  ///< Bytes: the payload
  size_t size = 0;                      ///< Bytes: its length
  size_t offset = 0;                    ///< where the field starts in the file
  /// The payload as a string (Bytes only).
  std::string str() const { return std::string(reinterpret_cast<const char*>(data), size); }
};

/// Reads the fields of one message in [data, data + size), which starts at `base` bytes
/// into the file named `what`; `depth` is its nesting level.
class Reader {
 public:
  /// Messages nested deeper than this are refused (ONNX's deepest is about 8).
  static constexpr int kMaxDepth = 32;

  /// A reader over one message.
  Reader(const unsigned char* data, size_t size, std::string what, size_t base = 0, int depth = 0)
      : data_(data), size_(size), base_(base), depth_(depth), what_(std::move(what)) {
    CK_CHECK(depth <= kMaxDepth, "protobuf: '", what_, "': messages nested deeper than ", kMaxDepth, " at offset ",
             base_);
  }
  /// A reader over the nested message in field f.
  Reader nested(const Field& f) const {
    expect(f, Wire::Bytes, "a message");
    return Reader(f.data, f.size, what_, f.offset, depth_ + 1);
  }

  /// Reads the next field into f; false at the end of the message.
  bool next(Field& f) {
    if (pos_ >= size_) return false;
    f = Field();
    f.offset = base_ + pos_;
    const uint64_t key = varint();
    f.number = static_cast<int>(key >> 3);
    CK_CHECK(key >> 3 > 0 && key >> 3 <= 0x1FFFFFFF, "protobuf: '", what_, "': field number ", key >> 3, " at offset ",
             f.offset, " is out of range");
    switch (key & 7) {
      case 0:
        f.wire = Wire::Varint;
        f.value = varint();
        break;
      case 1:
        f.wire = Wire::Fixed64;
        f.value = fixed(8);
        break;
      case 5:
        f.wire = Wire::Fixed32;
        f.value = fixed(4);
        break;
      case 2: {
        f.wire = Wire::Bytes;
        const uint64_t n = varint();
        CK_CHECK(n <= size_ - pos_, "protobuf: '", what_, "': field ", f.number, " at offset ", f.offset, " declares ",
                 n, " bytes but only ", size_ - pos_, " are left");
        f.data = data_ + pos_;
        f.size = static_cast<size_t>(n);
        pos_ += f.size;
        break;
      }
      default:
        throw Error(convkit::detail::cat("protobuf: '", what_, "': field ", f.number, " at offset ", f.offset,
                                         " has wire type ", key & 7, " (groups and unknown types are not read)"));
    }
    return true;
  }

  /// Throws unless f has wire type `wire`; `what` names what the field should hold.
  void expect(const Field& f, Wire wire, const char* kind) const {
    CK_CHECK(f.wire == wire, "protobuf: '", what_, "': field ", f.number, " at offset ", f.offset, " should be ", kind,
             " (wire type ", static_cast<int>(wire), "), not wire type ", static_cast<int>(f.wire));
  }
  /// The int64 in a varint field.
  int64_t int64(const Field& f) const {
    expect(f, Wire::Varint, "an integer");
    return static_cast<int64_t>(f.value);
  }
  /// The float in a fixed32 field.
  float float32(const Field& f) const {
    expect(f, Wire::Fixed32, "a float");
    const auto bits = static_cast<uint32_t>(f.value);
    float v = 0;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  /// A string or bytes field.
  std::string string(const Field& f) const {
    expect(f, Wire::Bytes, "a string");
    return f.str();
  }
  /// Appends a repeated int64 field's values, packed or not.
  void int64s(const Field& f, std::vector<int64_t>& out) const {
    if (f.wire == Wire::Varint) {
      out.push_back(static_cast<int64_t>(f.value));
      return;
    }
    Reader packed = nested(f);
    while (packed.pos_ < packed.size_) out.push_back(static_cast<int64_t>(packed.varint()));
  }
  /// Appends a repeated float field's values, packed or not.
  void floats(const Field& f, std::vector<float>& out) const {
    if (f.wire == Wire::Fixed32) {
      out.push_back(float32(f));
      return;
    }
    expect(f, Wire::Bytes, "packed floats");
    CK_CHECK(f.size % 4 == 0, "protobuf: '", what_, "': packed floats at offset ", f.offset, " take ", f.size,
             " bytes, not a multiple of 4");
    for (size_t i = 0; i < f.size; i += 4) {
      float v = 0;
      std::memcpy(&v, f.data + i, 4);
      out.push_back(v);
    }
  }
  /// The name of the file in errors.
  const std::string& what() const { return what_; }

 private:
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      CK_CHECK(pos_ < size_, "protobuf: '", what_, "': a varint at offset ", base_ + pos_, " runs past the end");
      const unsigned char b = data_[pos_++];
      if (shift == 63 && b > 1)
        throw Error(convkit::detail::cat("protobuf: '", what_, "': a varint at offset ", base_ + pos_ - 1,
                                         " overflows 64 bits"));
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error(
        convkit::detail::cat("protobuf: '", what_, "': a varint at offset ", base_ + pos_, " is longer than 10 bytes"));
  }
  uint64_t fixed(size_t n) {
    CK_CHECK(n <= size_ - pos_, "protobuf: '", what_, "': a ", n * 8, "-bit field at offset ", base_ + pos_,
             " runs past the end");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }

  const unsigned char* data_;
  size_t size_, pos_ = 0, base_;
  int depth_;
  std::string what_;
};

}  // namespace convkit::io::protobuf
