#include "util/console.hpp"

#include <gtest/gtest.h>

namespace llmd::util {
namespace {

TEST(EscapeControls, ShowsControlCharactersButKeepsNewlinesTabsAndUtf8) {
  // ESC ] 0 ; title BEL: retitles a terminal; ESC [ 2 J clears it.
  EXPECT_EQ(escape_controls("text/\x1b]0;pwned\x07plain"), "text/\\x1b]0;pwned\\x07plain");
  EXPECT_EQ(escape_controls("a\x1b[2Jb\rc\x7f"), "a\\x1b[2Jb\\x0dc\\x7f");
  EXPECT_EQ(escape_controls("line 1\n\tline 2 caf\xC3\xA9"), "line 1\n\tline 2 caf\xC3\xA9");
}

}  // namespace
}  // namespace llmd::util
