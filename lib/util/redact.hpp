#pragma once
// Secrets are never printed or stored (README "Ground rules"): every text the tool prints or writes
// passes through redact(), which hides
//   - the userinfo of URLs: "http://alice:pw@gw:80/x" -> "http://***@gw:80/x" (any scheme),
//   - every value registered with add_secret() (the bearer token), as written and as it appears
//     escaped inside a JSON string (a server that echoes the token in an error body is quoted).
// Process-wide, like the process's stdout it guards; add_secret() is called once at start-up.
#include <string>
#include <string_view>

namespace llmd::util {

// Registers a value to hide from now on; values shorter than 4 bytes are ignored (they would hide
// ordinary words).
void add_secret(std::string_view value);

// `text` with URL userinfo and every registered secret replaced by "***".
std::string redact(std::string_view text);

}  // namespace llmd::util
