#include "sim/tokenizer.hpp"  // placeholder: being implemented
