#include "duet/common/yaml_to_json.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "duet/common/utf8.h"

namespace duet {

using nlohmann::json;

namespace {

json plain_scalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  // Past int64 but within uint64: exact, so a range error shows the number as written.
  uint64_t u = 0;
  auto [pu, ecu] = std::from_chars(s.data(), s.data() + s.size(), u);
  if (ecu == std::errc() && pu == s.data() + s.size()) return u;
  double d = 0;
  auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ecd == std::errc() && pd == s.data() + s.size() && !s.empty()) return d;
  return s;
}

// What a node took from the budget; each alias of it is charged the same again.
struct Cost {
  std::size_t nodes = 0;
  std::size_t bytes = 0;
  std::size_t height = 0;  // levels of nesting inside it: 0 for a scalar
};

// Builds each document from yaml-cpp's parse events rather than from YAML::Node: a Node
// shares an anchored node between its aliases, and walking it copies that node at every
// use, unbounded and (for `&a [*a]`) without end. Here every value is charged to the budget
// before it is built.
class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(const YamlLimits& limits) : limits_(limits) {}
  json take_document() { return std::move(root_); }

  // YAML::EventHandler
  void OnDocumentStart(const YAML::Mark&) override {
    root_ = nullptr;
    anchors_.clear();  // yaml-cpp numbers anchors afresh in each document
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    leaf(mark, anchor, nullptr, "null", {1, 0, 0});
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // yaml-cpp guesses UTF-16/32 from the first bytes (01 00 00 00 reads as UTF-32) and may
    // then decode code points that are no UTF-8; a value that is not UTF-8 cannot be stored.
    if (auto at = first_invalid_utf8(value))
      throw YAML::ParserException(mark, "a scalar is not valid UTF-8 (at its byte " +
                                            std::to_string(*at) +
                                            "; was the text taken for UTF-16 or UTF-32?)");
    // yaml-cpp tags quoted scalars "!"; plain ones "?" and they may be numbers or booleans.
    leaf(mark, anchor, tag == "!" ? json(value) : plain_scalar(value), value, {1, value.size(), 0});
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, json::array());
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, json::object());
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor = YAML::NullAnchor;
    Cost used_before;
    std::size_t height = 1;
    std::optional<std::string> key;  // in a map: the key read, waiting for its value
  };
  struct Anchored {
    json value;
    std::optional<std::string> key_text;  // a scalar's text, for its use as a map key
    Cost cost;
  };

  void charge(const YAML::Mark& mark, const Cost& cost);
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, json value, std::string key_text,
            const Cost& cost);
  void open(const YAML::Mark& mark, YAML::anchor_t anchor, json value);
  void close();
  void place(const YAML::Mark& mark, json value, const std::optional<std::string>& key_text,
             std::size_t height);

  const YamlLimits& limits_;
  json root_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;  // finished anchored nodes
  Cost used_;
  std::size_t aliases_ = 0;
};

void JsonBuilder::charge(const YAML::Mark& mark, const Cost& cost) {
  int line = mark.line + 1;
  if (used_.nodes + cost.nodes > limits_.max_nodes)
    throw YamlLimitExceeded(line, "expands to more than " + std::to_string(limits_.max_nodes) +
                                      " YAML nodes (each use of an alias counts the whole node)");
  if (used_.bytes + cost.bytes > limits_.max_string_bytes)
    throw YamlLimitExceeded(line, "expands to more than " +
                                      std::to_string(limits_.max_string_bytes) +
                                      " bytes of strings (each use of an alias counts them again)");
  if (stack_.size() + cost.height > limits_.max_depth)
    throw YamlLimitExceeded(line,
                            "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
  used_.nodes += cost.nodes;
  used_.bytes += cost.bytes;
}

void JsonBuilder::leaf(const YAML::Mark& mark, YAML::anchor_t anchor, json value,
                       std::string key_text, const Cost& cost) {
  charge(mark, cost);
  if (anchor != YAML::NullAnchor) anchors_[anchor] = {value, key_text, cost};
  place(mark, std::move(value), key_text, 0);
}

void JsonBuilder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  if (++aliases_ > limits_.max_aliases)
    throw YamlLimitExceeded(
        mark.line + 1, "uses aliases more than " + std::to_string(limits_.max_aliases) + " times");
  auto it = anchors_.find(anchor);
  // yaml-cpp rejects an undefined anchor; one still open is an alias inside its own node.
  if (it == anchors_.end()) throw YAML::ParserException(mark, "an alias inside the node it names");
  charge(mark, it->second.cost);
  place(mark, it->second.value, it->second.key_text, it->second.cost.height);
}

void JsonBuilder::open(const YAML::Mark& mark, YAML::anchor_t anchor, json value) {
  if (!stack_.empty() && stack_.back().value.is_object() && !stack_.back().key)
    throw YAML::ParserException(mark, "a map key must be a scalar");
  auto before = used_;
  charge(mark, {1, 0, 1});
  stack_.push_back({std::move(value), anchor, before, 1, std::nullopt});
}

void JsonBuilder::close() {
  Frame frame = std::move(stack_.back());
  stack_.pop_back();
  if (frame.anchor != YAML::NullAnchor)
    anchors_[frame.anchor] = {frame.value,
                              std::nullopt,
                              {used_.nodes - frame.used_before.nodes,
                               used_.bytes - frame.used_before.bytes, frame.height}};
  place({}, std::move(frame.value), std::nullopt, frame.height);
}

void JsonBuilder::place(const YAML::Mark& mark, json value,
                        const std::optional<std::string>& key_text, std::size_t height) {
  if (stack_.empty()) {
    root_ = std::move(value);
    return;
  }
  auto& parent = stack_.back();
  parent.height = std::max(parent.height, height + 1);
  if (parent.value.is_array()) {
    parent.value.push_back(std::move(value));
  } else if (!parent.key) {
    if (!key_text) throw YAML::ParserException(mark, "a map key must be a scalar");
    parent.key = *key_text;
  } else {
    parent.value[*parent.key] = std::move(value);  // a repeated key: the last one wins
    parent.key.reset();
  }
}

}  // namespace

std::vector<json> yaml_documents_to_json(std::string_view text, const YamlLimits& limits) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  JsonBuilder builder(limits);
  std::vector<json> out;
  while (parser.HandleNextDocument(builder)) out.push_back(builder.take_document());
  return out;
}

json yaml_config_document(std::string_view text, const std::string& name) {
  std::vector<json> docs;
  try {
    docs = yaml_documents_to_json(text);
  } catch (const YAML::Exception& e) {
    // e.mark.line counts from 0; editors count from 1.
    throw std::invalid_argument(name + ":" + std::to_string(e.mark.line + 1) +
                                ": invalid YAML: " + e.msg);
  } catch (const YamlLimitExceeded& e) {
    throw std::invalid_argument(name + ":" + std::to_string(e.line()) + ": " + e.what());
  }
  // Empty documents (a leading or trailing `---`) hold no settings; a second one with
  // settings would be silently ignored, so it is refused.
  std::erase_if(docs, [](const json& doc) { return doc.is_null(); });
  if (docs.size() > 1)
    throw std::invalid_argument(name + ": expected one YAML document, got " +
                                std::to_string(docs.size()));
  return docs.empty() ? json::object() : std::move(docs[0]);
}

}  // namespace duet
