#include "provider/template.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <map>

#include "base/json.h"
#include "base/text.h"

namespace otp::provider {
namespace {

enum class Modifier { None, Optional, Default, Alternate };

// One piece of a parsed template: literal text or a reference.
// "|name" or "|name(1,-27)": a filter and its integer arguments.
struct FilterCall {
  std::string name;
  std::vector<long> args;
};

struct Piece {
  bool is_ref = false;
  SecureString literal;  // may be a literal secret ("api_key = ...")
  std::string name;
  std::vector<FilterCall> filters;
  Modifier modifier = Modifier::None;
  std::vector<Piece> alternative;  // the text after ":-" or ":+"
};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<Piece> parse_all() {
    auto pieces = parse_pieces(false);
    if (pos_ != text_.size()) fail("unexpected '}'");
    return pieces;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw TemplateError(what + " at offset " + std::to_string(pos_) + " in \"" + std::string(text_) + "\"");
  }

  // Reads pieces until the end, or until an unmatched '}' when nested.
  std::vector<Piece> parse_pieces(bool nested) {
    std::vector<Piece> pieces;
    SecureString literal;
    while (pos_ < text_.size()) {
      if (text_.compare(pos_, 3, "$${") == 0) {
        literal += "${";
        pos_ += 3;
      } else if (text_.compare(pos_, 2, "${") == 0) {
        if (!literal.empty()) pieces.push_back(Piece{false, std::move(literal), {}, {}, Modifier::None, {}});
        literal.clear();
        pos_ += 2;
        pieces.push_back(parse_ref());
      } else if (nested && text_[pos_] == '}') {
        break;
      } else {
        literal += text_[pos_++];
      }
    }
    if (!literal.empty()) pieces.push_back(Piece{false, std::move(literal), {}, {}, Modifier::None, {}});
    return pieces;
  }

  std::string read_name(const char* what) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && name_char(text_[pos_])) ++pos_;
    if (pos_ == start) fail(std::string("expected a ") + what + " name");
    if (text_[start] >= '0' && text_[start] <= '9') fail(std::string("a ") + what + " name cannot start with a digit");
    return std::string(text_.substr(start, pos_ - start));
  }

  FilterCall read_filter() {
    FilterCall call{read_name("filter"), {}};
    if (pos_ >= text_.size() || text_[pos_] != '(') return call;
    ++pos_;
    for (;;) {
      const std::size_t start = pos_;
      if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == start || (pos_ - start == 1 && text_[start] == '-') || pos_ - start > 6)
        fail("expected an integer argument of filter '" + call.name + "'");
      call.args.push_back(std::stol(std::string(text_.substr(start, pos_ - start))));
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == ')') { ++pos_; return call; }
      fail("expected ',' or ')' in the arguments of filter '" + call.name + "'");
    }
  }

  Piece parse_ref() {
    Piece ref;
    ref.is_ref = true;
    ref.name = read_name("variable");
    while (pos_ < text_.size() && text_[pos_] == '|') {
      ++pos_;
      ref.filters.push_back(read_filter());
    }
    if (text_.compare(pos_, 2, ":-") == 0 || text_.compare(pos_, 2, ":+") == 0) {
      ref.modifier = text_[pos_ + 1] == '-' ? Modifier::Default : Modifier::Alternate;
      pos_ += 2;
      ref.alternative = parse_pieces(true);
    } else if (pos_ < text_.size() && text_[pos_] == '?') {
      ref.modifier = Modifier::Optional;
      ++pos_;
    }
    if (pos_ >= text_.size() || text_[pos_] != '}') fail("expected '}' to close \"${" + ref.name + "\"");
    ++pos_;
    return ref;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---- filters ---------------------------------------------------------------

std::string require_phone(const Json::Value& v, const char* filter) {
  if (!v.isString() || !split_e164(v.asString()))
    throw TemplateError(std::string("filter '") + filter + "' needs an E.164 phone number");
  return v.asString();
}

struct Filter {
  std::size_t min_args, max_args;
  std::function<Json::Value(const Json::Value&, const std::vector<long>&)> apply;
};

// Python's slice of text by bytes: slice(1) drops the first byte,
// slice(1,-27) keeps bytes 1 up to 27 before the end (Descope's region).
std::string slice(const std::string& text, const std::vector<long>& args) {
  const long size = static_cast<long>(text.size());
  auto index = [size](long i) { return std::clamp(i < 0 ? size + i : i, 0L, size); };
  const long start = index(args.at(0));
  const long end = args.size() > 1 ? index(args[1]) : size;
  return start < end ? text.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)) : std::string();
}

// A filter's result from text it made, the text wiped (it may be a secret).
Json::Value text_value(std::string& text) {
  Json::Value v(text);
  wipe(text);
  return v;
}

const std::map<std::string, Filter, std::less<>>& filters() {
  using Args = const std::vector<long>&;
  static const std::map<std::string, Filter, std::less<>> table = {
      {"string", {0, 0, [](const Json::Value& v, Args) {
         std::string s = json::as_text(v);
         return text_value(s);
       }}},
      {"lower", {0, 0, [](const Json::Value& v, Args) {
         std::string s = json::as_text(v);
         std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
         return text_value(s);
       }}},
      {"upper", {0, 0, [](const Json::Value& v, Args) {
         std::string s = json::as_text(v);
         std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
         return text_value(s);
       }}},
      {"digits", {0, 0, [](const Json::Value& v, Args) {
         std::string s = json::as_text(v);
         s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c < '0' || c > '9'; }), s.end());
         return text_value(s);
       }}},
      {"slice", {1, 2, [](const Json::Value& v, Args args) {
         std::string s = json::as_text(v);
         std::string part = slice(s, args);
         wipe(s);
         return text_value(part);
       }}},
      {"national", {0, 0, [](const Json::Value& v, Args) {
         return Json::Value(split_e164(require_phone(v, "national"))->second);
       }}},
      {"country_code", {0, 0, [](const Json::Value& v, Args) {
         return Json::Value(split_e164(require_phone(v, "country_code"))->first);
       }}},
  };
  return table;
}

// The filter a call names, with the right number of arguments, or an error.
const Filter& filter_for(const FilterCall& call) {
  const auto filter = filters().find(call.name);
  if (filter == filters().end()) throw TemplateError("unknown filter '" + call.name + "'");
  const Filter& f = filter->second;
  if (call.args.size() < f.min_args || call.args.size() > f.max_args)
    throw TemplateError("filter '" + call.name + "' takes " +
                        (f.max_args == 0 ? std::string("no arguments")
                                         : std::to_string(f.min_args) + " to " + std::to_string(f.max_args) +
                                               " integer arguments"));
  return f;
}

// Loaded templates had their filters checked, but expand_* take any text:
// an unknown filter is an error there too, never a lookup past the table.
Json::Value apply_filters(Json::Value v, const std::vector<FilterCall>& calls) {
  json::WipeOnExit wipe_input(v);
  Json::Value result = v;
  for (const auto& call : calls) {
    Json::Value next = filter_for(call).apply(result, call.args);
    json::wipe(result);
    result = std::move(next);
  }
  return result;
}

// ---- expansion -------------------------------------------------------------

bool is_empty_value(const std::optional<Json::Value>& v) {
  return !v || v->isNull() || (v->isString() && v->asString().empty());
}

void expand_pieces(const std::vector<Piece>& pieces, const VariableSource& vars, Encoding enc, SecureString& out);

// A value inserted into a URL: percent-encoded, dots included, so that no
// value (a hostile "transaction_id" of "..", or "." and "." side by side)
// can form a dot segment that moves the request to another path.
void append_url_value(std::string_view text, SecureString& out) {
  for (const char c : percent_encode(text)) out += c == '.' ? std::string_view("%2E") : std::string_view(&c, 1);
}

// Appends the text a reference stands for (already encoded when enc is Url).
// Every copy of a value is wiped: it may be a secret.
void expand_ref(const Piece& ref, const VariableSource& vars, Encoding enc, SecureString& out) {
  auto value = vars.lookup(ref.name);
  if (value) value = apply_filters(std::move(*value), ref.filters);
  Json::Value none;
  json::WipeOnExit wipe_value(value ? *value : none);
  switch (ref.modifier) {
    case Modifier::None:
      if (!value) throw TemplateError("undefined variable '" + ref.name + "'");
      break;
    case Modifier::Optional:
      if (!value) return;
      break;
    case Modifier::Default:
      if (is_empty_value(value)) return expand_pieces(ref.alternative, vars, enc, out);
      break;
    case Modifier::Alternate:
      if (!is_empty_value(value)) expand_pieces(ref.alternative, vars, enc, out);
      return;
  }
  if (enc != Encoding::Url) return json::append_text(*value, out);
  SecureString text;
  json::append_text(*value, text);
  append_url_value(text, out);
}

void expand_pieces(const std::vector<Piece>& pieces, const VariableSource& vars, Encoding enc, SecureString& out) {
  for (const auto& piece : pieces) {
    if (piece.is_ref) expand_ref(piece, vars, enc, out);
    else out += piece.literal;
  }
}

void check_filters(const std::vector<Piece>& pieces, std::vector<std::string>* names) {
  for (const auto& piece : pieces) {
    if (!piece.is_ref) continue;
    for (const auto& f : piece.filters) filter_for(f);
    if (names != nullptr) names->push_back(piece.name);
    check_filters(piece.alternative, names);
  }
}

}  // namespace

std::optional<std::string> check_template(std::string_view text, std::vector<std::string>* names) {
  try {
    check_filters(Parser(text).parse_all(), names);
    return std::nullopt;
  } catch (const TemplateError& e) {
    return std::string(e.what());
  }
}

Secret expand_secret(std::string_view tmpl, const VariableSource& vars, Encoding encoding) {
  SecureString out;
  out.reserve(128);
  expand_pieces(Parser(tmpl).parse_all(), vars, encoding, out);
  return Secret(std::move(out));
}

std::string expand_text(std::string_view tmpl, const VariableSource& vars, Encoding encoding) {
  return std::string(expand_secret(tmpl, vars, encoding).reveal());
}

std::optional<Json::Value> expand_value(std::string_view tmpl, const VariableSource& vars) {
  const auto pieces = Parser(tmpl).parse_all();
  if (pieces.size() == 1 && pieces[0].is_ref) {
    const Piece& ref = pieces[0];
    auto value = vars.lookup(ref.name);
    if (ref.modifier == Modifier::None && value) return apply_filters(std::move(*value), ref.filters);
    if (ref.modifier == Modifier::Optional) {
      if (!value) return std::nullopt;
      return apply_filters(std::move(*value), ref.filters);
    }
  }
  SecureString text;
  expand_pieces(pieces, vars, Encoding::Plain, text);
  return Json::Value(text.data(), text.data() + text.size());
}

Json::Value expand_json(const Json::Value& tmpl, const VariableSource& vars) {
  if (tmpl.isString()) {
    auto v = expand_value(tmpl.asString(), vars);
    return v ? *v : Json::Value();
  }
  if (tmpl.isArray()) {
    Json::Value out(Json::arrayValue);
    for (const auto& item : tmpl) {
      if (item.isString()) {
        if (auto v = expand_value(item.asString(), vars)) out.append(std::move(*v));
      } else {
        out.append(expand_json(item, vars));
      }
    }
    return out;
  }
  if (tmpl.isObject()) {
    Json::Value out(Json::objectValue);
    for (auto it = tmpl.begin(); it != tmpl.end(); ++it) {
      if (it->isString()) {
        if (auto v = expand_value(it->asString(), vars)) out[it.name()] = std::move(*v);
      } else {
        out[it.name()] = expand_json(*it, vars);
      }
    }
    return out;
  }
  return tmpl;
}

void collect_strings(const Json::Value& tmpl, std::vector<std::string>& out) {
  if (tmpl.isString()) out.push_back(tmpl.asString());
  else if (tmpl.isArray() || tmpl.isObject())
    for (const auto& child : tmpl) collect_strings(child, out);
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> split_e164(std::string_view phone) {
  if (!is_e164(phone)) return std::nullopt;
  const std::string_view digits = phone.substr(1);
  // ITU-T E.164 country calling codes are prefix-free: 1 and 7 are the only
  // one-digit codes, these are the two-digit ones, every other is three digits.
  static constexpr std::array<std::string_view, 44> kTwoDigit = {
      "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
      "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
      "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  std::size_t len = 3;
  if (digits[0] == '1' || digits[0] == '7') len = 1;
  else if (std::find(kTwoDigit.begin(), kTwoDigit.end(), digits.substr(0, 2)) != kTwoDigit.end()) len = 2;
  return std::make_pair(std::string(digits.substr(0, len)), std::string(digits.substr(len)));
}

}  // namespace otp::provider
