// See conv_config.hpp.
#include "config/conv_config.hpp"

#include <array>
#include <optional>
#include <string>

#include "config/model_config.hpp"

namespace gradflow {
namespace {

constexpr std::array<std::string_view, 3> kConvPoolNames = {"none", "max", "avg"};
static_assert(std::size_t(ConvPool::avg) + 1 == kConvPoolNames.size());

}  // namespace

std::string_view conv_pool_name(ConvPool p) { return kConvPoolNames[std::size_t(p)]; }

long read_stride(const JsonAt& at, std::string_view kind) {
  // 0 would never move the window; said in words, since "expected an integer >= 1" alone does
  // not say which layer's stride broke.
  if (at.value->is_number() && !at.value->is_boolean() && at.value->get<double>() < 1)
    fail_at(at, "a " + std::string(kind) +
                    " layer's stride is the step between its window's positions: expected an "
                    "integer >= 1, got " +
                    describe_value(*at.value));
  return long(read_integer(at, 1, kMaxWidth));
}

ConvConfig read_conv(const JsonAt& at) {
  if (!at.value->is_object())
    fail_expected(at, "an object {\"channels\": [C_1, C_2, ...], \"kernel\": k, ...}");
  ObjectReader r(at);
  ConvConfig c;
  const std::optional<JsonAt> channels = r.take("channels");
  if (!channels)
    fail_at(at, "missing \"channels\": the output channels of each conv layer, e.g. [16, 32]");
  if (!channels->value->is_array() || channels->value->empty())
    fail_expected(*channels,
                  "a non-empty list of output channel counts, one per conv layer (e.g. [16, 32])");
  if (long(channels->value->size()) > kMaxDepth)
    fail_at(*channels, "more than " + std::to_string(kMaxDepth) + " conv layers");
  for (const JsonAt& item : read_list(*channels))
    c.channels.push_back(long(read_integer(item, 1, kMaxWidth)));
  c.kernel = long(r.integer("kernel", c.kernel, 1, kMaxWidth));
  c.padding = r.choice("padding", c.padding, kPaddingNames);
  if (auto stride = r.take("stride")) c.stride = read_stride(*stride, "conv2d");
  c.pool = r.choice("pool", c.pool, kConvPoolNames);
  const auto needs_pool = [&](const JsonAt& key_at, std::string_view key) {
    if (c.pool != ConvPool::none) return;
    fail_at(key_at, std::string(key) +
                        " applies to model.conv.pool \"max\" or \"avg\", but the pool is "
                        "\"none\"; leave " +
                        std::string(key) + " out, or set model.conv.pool");
  };
  if (auto every = r.take("pool_every")) {
    needs_pool(*every, "pool_every");
    c.pool_every = long(read_integer(*every, 1, kMaxDepth));
    if (c.pool_every > long(c.channels.size()))
      fail_at(*every, "expected at most the number of conv layers (" +
                          std::to_string(c.channels.size()) +
                          ", model.conv.channels), got " + std::to_string(c.pool_every) +
                          ": no conv layer would be followed by a pool");
  }
  if (auto size = r.take("pool_size")) {
    needs_pool(*size, "pool_size");
    c.pool_size = long(read_integer(*size, 1, kMaxWidth));
  }
  c.global_pool = r.boolean("global_pool", c.global_pool);
  r.finish();
  return c;
}

Json conv_to_json(const ConvConfig& c) {
  Json j = {{"channels", c.channels},
            {"kernel", c.kernel},
            {"padding", std::string(padding_name(c.padding))},
            {"stride", c.stride},
            {"pool", std::string(conv_pool_name(c.pool))}};
  if (c.pool != ConvPool::none) {
    j["pool_every"] = c.pool_every;
    j["pool_size"] = c.pool_size;
  }
  j["global_pool"] = c.global_pool;
  return j;
}

}  // namespace gradflow
