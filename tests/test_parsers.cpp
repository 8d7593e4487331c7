// Hostile input to the file readers (safetensors and its JSON header, IDX plain and gzip):
// every case gives a ck::Error naming the problem, and nothing reads, allocates or waits
// for more than the file really holds. Each case is a reproducer found by fuzzing.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <convkit/convkit.hpp>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string temp_dir() { return test_temp_dir("parsers"); }

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A safetensors file: the 8-byte little-endian header length, the header, then `data`.
std::string safetensors_file(const std::string& header, const std::string& data = "") {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

/// The error of loading a file made of `header` and `data` as a safetensors file.
std::string safetensors_error(const std::string& header, const std::string& data = "") {
  const std::string path = temp_dir() + "/case.safetensors";
  write_bytes(path, safetensors_file(header, data));
  return error_of([&] { ck::io::load_safetensors(path); });
}

std::string tensor_entry(const std::string& name, const std::string& shape, int64_t begin, int64_t end,
                         const std::string& dtype = "F32") {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace

TEST_CASE("JSON: a \\u escape with non-hex digits is malformed JSON, not a std::invalid_argument") {
  const std::string e = error_of([] { ck::io::JsonParser("\"\\uzzzz\"", "test").parse_document(); });
  CHECK(contains(e, "bad hex digit"));
  CHECK(contains(safetensors_error("{\"\\uzzzz\":1}"), "malformed JSON"));
  // Valid escapes still decode: \u00e9 is two bytes of UTF-8.
  CHECK(ck::io::JsonParser("\"\\u00e9\\u0041\"", "test").parse_document().string ==
        "\xc3\xa9"
        "A");
}

TEST_CASE("safetensors: shapes whose element or byte count overflows are refused") {
  // Elements overflow int64 (2^64).
  CHECK(
      contains(safetensors_error("{" + tensor_entry("x", "[4294967296,4294967296]", 0, 0) + "}"), "too many elements"));
  // 2^62 elements fit in int64, their bytes do not; the message itself must not overflow.
  CHECK(
      contains(safetensors_error("{" + tensor_entry("x", "[2147483648,2147483648]", 0, 4) + "}", "abcd"), "too large"));
  // 2^62 bytes of F64 wrapped to 0 before: a huge tensor with no data was accepted.
  CHECK(
      contains(safetensors_error("{" + tensor_entry("x", "[2147483648,1073741824]", 0, 0, "F64") + "}"), "too large"));
  CHECK(contains(safetensors_error("{" + tensor_entry("x", "[2147483648,536870912]", 0, 0) + "}"),
                 "needs 4611686018427387904"));
}

TEST_CASE("safetensors: a zero-element tensor loads, and round-trips through save") {
  const std::string file = temp_dir() + "/zero.safetensors";
  write_bytes(file, safetensors_file("{" + tensor_entry("x", "[0]", 0, 0) + "}"));
  const auto stored = ck::io::load_safetensors(file);
  REQUIRE(stored.count("x") == 1);
  CHECK(stored.at("x").as<float>().numel() == 0);
  CHECK(stored.at("x").as<double>().shape() == ck::Shape{0});

  const std::string path = temp_dir() + "/empty.safetensors";
  ck::io::save_safetensors<float>(path,
                                  {{"e", ck::Tensor<float>::zeros({3, 0})}, {"one", ck::Tensor<float>::ones({1})}});
  const auto back = ck::io::load_safetensors(path);
  CHECK(back.at("e").as<float>().shape() == ck::Shape{3, 0});
  CHECK(back.at("one").as<float>().item() == 1.0f);
}

TEST_CASE("safetensors: the tensors must tile the data section exactly, as the official reader requires") {
  const std::string eight(8, '\0');
  // Two tensors over the same bytes.
  CHECK(contains(
      safetensors_error("{" + tensor_entry("a", "[2]", 0, 8) + "," + tensor_entry("b", "[2]", 0, 8) + "}", eight),
      "overlaps"));
  // Partly overlapping ranges.
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[2]", 0, 8) + "," + tensor_entry("b", "[2]", 4, 12) + "}",
                                   std::string(12, '\0')),
                 "overlaps"));
  // A hole between two tensors.
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[1]", 0, 4) + "," + tensor_entry("b", "[1]", 8, 12) + "}",
                                   std::string(12, '\0')),
                 "belong to no tensor"));
  // A hole at the start.
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[1]", 4, 8) + "}", eight), "belong to no tensor"));
  // Bytes after the last tensor.
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[1]", 0, 4) + "}", eight), "trailing bytes"));
  // Out of file order is fine when the ranges tile.
  const std::string file =
      safetensors_file("{" + tensor_entry("b", "[1]", 4, 8) + "," + tensor_entry("a", "[1]", 0, 4) + "}", eight);
  // In memory too (what the fuzz target calls).
  CHECK(ck::io::parse_safetensors(reinterpret_cast<const unsigned char*>(file.data()), file.size(), "t").size() == 2);
}

TEST_CASE("safetensors: other malformed headers") {
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[1]", 0, 4) + "," + tensor_entry("a", "[1]", 4, 8) + "}",
                                   std::string(8, '\0')),
                 "duplicate name"));
  CHECK(contains(
      safetensors_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", std::string(4, '\0')),
      "bad data_offsets"));
  CHECK(contains(safetensors_error("{\"__metadata__\":[1]}"), "__metadata__"));
  CHECK(contains(safetensors_error("{\"__metadata__\":{\"format\":3}}"), "__metadata__"));
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[-1]", 0, 0) + "}"), "bad shape entry"));
  CHECK(contains(safetensors_error("{" + tensor_entry("a", "[1]", 0, 2, "I8") + "}", "ab"), "not supported"));
}

TEST_CASE("file readers refuse directories, devices and FIFOs instead of throwing std exceptions or hanging") {
  const std::string dir = temp_dir();
  CHECK(contains(error_of([&] { ck::io::load_safetensors(dir); }), "is not a regular file (it is a directory)"));
  CHECK(contains(error_of([&] { ck::data::read_idx(dir, 1); }), "is not a regular file (it is a directory)"));
  CHECK(contains(error_of([] { ck::io::load_safetensors("/dev/zero"); }), "not a regular file"));
  CHECK(contains(error_of([] { ck::data::read_idx("/dev/zero", 1); }), "not a regular file"));
  // A FIFO with no writer: opening it for reading would block forever.
  const std::string fifo = dir + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(contains(error_of([&] { ck::io::load_safetensors(fifo); }), "not a regular file"));
  CHECK(contains(error_of([&] { ck::data::read_idx(fifo, 1); }), "not a regular file"));
  CHECK(contains(error_of([] { ck::io::load_safetensors("/nonexistent/x.safetensors"); }), "cannot open"));
}

namespace {
/// `header` followed by `zeros` zero bytes, gzip-compressed in memory.
std::string gzip_of(const std::string& header, size_t zeros) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  std::vector<unsigned char> buf(1 << 16);
  std::string plain = header;
  const std::string block(1 << 20, '\0');
  auto pump = [&](const std::string& in, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    do {
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      deflate(&zs, flush);
      out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  pump(plain, Z_NO_FLUSH);
  for (size_t left = zeros; left > 0;) {
    const size_t n = left < block.size() ? left : block.size();
    pump(block.substr(0, n), Z_NO_FLUSH);
    left -= n;
  }
  pump("", Z_FINISH);
  deflateEnd(&zs);
  return out;
}

std::string idx_header(const std::vector<uint32_t>& dims) {
  std::string out = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((d >> s) & 0xff);
  return out;
}

std::string idx_error(const std::string& bytes, int rank) {
  const std::string path = temp_dir() + "/case.idx.gz";
  write_bytes(path, bytes);
  return error_of([&] { ck::data::read_idx(path, rank); });
}
}  // namespace

TEST_CASE("IDX gzip: a small file that inflates to far more than its header declares is refused early") {
  // One label, then 64 MiB of zeros: only the declared byte and a short look past it are
  // inflated, and the message says so ("at least", not the exact count of a full inflate).
  const std::string bomb = gzip_of(idx_header({1}), size_t(64) << 20);
  CHECK(bomb.size() < 200'000);
  CHECK(contains(idx_error(bomb, 1), "at least 4096 unexpected trailing bytes"));
  // A header that declares more than deflate can pack into the file is refused before
  // anything is inflated or allocated.
  const std::string promise = gzip_of(idx_header({1u << 27, 16}), 100);
  CHECK(contains(idx_error(promise, 2), "compressed bytes can hold"));
  // And a stream cut short gives a truncated-gzip error.
  const std::string whole = gzip_of(idx_header({4}), 4);
  CHECK(contains(idx_error(whole.substr(0, whole.size() - 12), 1), "gzip"));
  // Concatenated gzip members are one stream, as gzip -d reads them.
  const std::string two = gzip_of(idx_header({4}), 0) + gzip_of(std::string(4, '\x07'), 0);
  write_bytes(temp_dir() + "/two.gz", two);
  const ck::data::IdxArray a = ck::data::read_idx(temp_dir() + "/two.gz", 1);
  CHECK(a.values == std::vector<uint8_t>(4, 7));
}

TEST_CASE("tensor shapes whose element count overflows int64 are refused") {
  const int64_t big = int64_t(1) << 32;
  const std::string e = error_of([&] { ck::Tensor<float>::zeros({big, big}); });
  CHECK(contains(e, "(4294967296, 4294967296)"));
  CHECK(contains(e, "overflows"));
  CHECK(contains(error_of([&] { (void)ck::Tensor<double>::empty(ck::Shape{big, big, 2}); }), "overflows"));
  CHECK(ck::Shape{big, big, 0}.numel() == 0);
  CHECK(ck::Shape{int64_t(1) << 31, int64_t(1) << 31}.numel() == int64_t(1) << 62);
}
