#pragma once
// A small strict JSON reader: enough for safetensors headers (objects, arrays, strings,
// integers, numbers, true/false/null). Malformed input throws ck::Error.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convkit::io {

/// A parsed JSON value (only what safetensors headers need): the member matching `kind` holds the value.
struct Json {
  /// The kinds of JSON value.
  enum class Kind { Null, Bool, Number, String, Array, Object };
  /// Which kind of value this is.
  Kind kind = Kind::Null;
  /// The value of a Bool.
  bool boolean = false;
  /// The value of a Number.
  double number = 0;
  /// True when the Number was written as an integer (then `integer` holds it exactly).
  bool integral = false;
  /// The value of an integral Number.
  int64_t integer = 0;
  /// The value of a String.
  std::string string;
  /// The elements of an Array.
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;  ///< in file order

  /// The member `key` of an Object, or nullptr.
  const Json* find(const std::string& key) const {
    for (const auto& [k, v] : object)
      if (k == key) return &v;
    return nullptr;
  }
};

/// A strict recursive-descent JSON parser with a depth limit; errors are ck::Error naming `what` and the offset.
class JsonParser {
 public:
  /// A parser over `text`; `what` names the source in error messages (e.g. the file).
  JsonParser(const std::string& text, std::string what) : s_(text), what_(std::move(what)) {}

  /// Parses the whole text as one value; throws ck::Error on anything else.
  Json parse_document() {
    Json v = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) fail("unexpected characters after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(detail::cat(what_, ": malformed JSON header at byte ", i_, ": ", why));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  Json parse_value(int depth) {
    if (depth > 64) fail("nesting too deep");
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.kind = Json::Kind::Object;
      if (eat('}')) return v;
      do {
        skip_ws();
        std::string key = parse_string();
        expect(':');
        v.object.emplace_back(std::move(key), parse_value(depth + 1));
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      v.kind = Json::Kind::Array;
      if (eat(']')) return v;
      do v.array.push_back(parse_value(depth + 1));
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::Kind::String;
      v.string = parse_string();
    } else if (s_.compare(i_, 4, "true") == 0) {
      i_ += 4;
      v.kind = Json::Kind::Bool;
      v.boolean = true;
    } else if (s_.compare(i_, 5, "false") == 0) {
      i_ += 5;
      v.kind = Json::Kind::Bool;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = i_;
      if (s_[i_] == '-') ++i_;
      bool is_int = true;
      while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' ||
                                s_[i_] == '+' || s_[i_] == '-')) {
        if (!(s_[i_] >= '0' && s_[i_] <= '9')) is_int = false;
        ++i_;
      }
      const std::string tok = s_.substr(start, i_ - start);
      v.kind = Json::Kind::Number;
      try {
        v.number = std::stod(tok);
        if (is_int && tok.size() < 19) {
          v.integral = true;
          v.integer = std::stoll(tok);
        }
      } catch (const std::exception&) {
        fail("bad number '" + tok + "'");
      }
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    return v;
  }
  std::string parse_string() {
    if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c == '\\') {
        if (i_ >= s_.size()) fail("unterminated escape");
        const char e = s_[i_++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const unsigned code = parse_hex4();
            if (code < 0x80)
              out += static_cast<char>(code);
            else if (code < 0x800) {
              out += static_cast<char>(0xC0 | (code >> 6));
              out += static_cast<char>(0x80 | (code & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (code >> 12));
              out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (code & 0x3F));
            }
            break;
          }
          default:
            fail("bad escape");
        }
      } else {
        out += c;
      }
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }

  // The four hex digits of a \u escape; anything else is malformed JSON.
  unsigned parse_hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    unsigned code = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      unsigned digit = 0;
      if (h >= '0' && h <= '9')
        digit = static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        digit = static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        digit = static_cast<unsigned>(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
      code = code * 16 + digit;
    }
    return code;
  }

  const std::string& s_;
  std::string what_;
  size_t i_ = 0;
};

/// Writes s as a JSON string literal.
inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else
      out += c;
  }
  return out + "\"";
}

}  // namespace convkit::io
