#include "prom/text_parser.hpp"  // placeholder: being implemented
