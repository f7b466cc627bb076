// Explicit instantiation of a layer kind's pair for float and double (each <kind>.cpp).
#pragma once
#define GRADFLOW_LAYER_INSTANTIATE(MACRO) \
  MACRO(float)                            \
  MACRO(double)
