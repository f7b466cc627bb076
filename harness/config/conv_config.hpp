// model.conv, the convolutional shorthand (issue 15): read with JSON paths, written back
// canonically. model_layers (model_config.hpp) expands it; docs/config.md documents it.
#pragma once

#include <string_view>

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace gradflow {

// Reads {"channels": [...], "kernel", "padding", "stride", "pool", "pool_every", "pool_size",
// "global_pool"}. Throws InputError naming the key's JSON path: an empty or missing channel
// list, stride 0, pool_every or pool_size without a pool, pool_every beyond the conv count.
ConvConfig read_conv(const JsonAt& at);

// Every key with its value, pool_every and pool_size only with a pool (read_conv refuses them
// without one), so read_conv reads it back to the same ConvConfig.
Json conv_to_json(const ConvConfig& c);

// A conv or pool stride (>= 1): the message says what a stride is and names `kind`.
long read_stride(const JsonAt& at, std::string_view kind);

std::string_view conv_pool_name(ConvPool p);

}  // namespace gradflow
