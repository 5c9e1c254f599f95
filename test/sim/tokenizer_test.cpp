#include "sim/tokenizer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace llmd::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Published FNV-1a 32-bit test vectors.
constexpr TokenId k_fnv_a = 0xe40c292cU;       // "a"
constexpr TokenId k_fnv_foobar = 0xbf9cf968U;  // "foobar"

TEST(SimTokenizer, TokenIdsAreFnv1aOfThePieceBytes) {
  EXPECT_THAT(tokenize("a foobar"), ElementsAre(k_fnv_a, k_fnv_foobar));
}

TEST(SimTokenizer, SplitsOnEveryWhitespaceKind) {
  EXPECT_EQ(count_tokens("w1 w2\tw3\nw4\r\nw5\vw6\fw7"), 7U);
  EXPECT_EQ(tokenize("a\tfoobar"), tokenize("a\r\n\v\f foobar"));
}

TEST(SimTokenizer, DropsLeadingTrailingAndRepeatedWhitespace) {
  EXPECT_THAT(tokenize("   a     foobar  \n"), ElementsAre(k_fnv_a, k_fnv_foobar));
}

TEST(SimTokenizer, PunctuationStaysInsideThePiece) {
  const std::vector<TokenId> tokens = tokenize("hello, world!");
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_NE(tokens[0], tokenize("hello")[0]);
}

TEST(SimTokenizer, EmptyAndAllWhitespaceTextHaveNoTokens) {
  EXPECT_THAT(tokenize(""), IsEmpty());
  EXPECT_THAT(tokenize(" \t\r\n\v\f  "), IsEmpty());
  EXPECT_EQ(count_tokens(""), 0U);
  EXPECT_EQ(count_tokens("   \n\t"), 0U);
}

TEST(SimTokenizer, LongRunIsCutIntoEightByteChunks) {
  EXPECT_EQ(tokenize("abcdefghijklmnopqrst"), tokenize("abcdefgh ijklmnop qrst"));
  EXPECT_EQ(count_tokens("abcdefgh"), 1U);           // exactly 8 bytes
  EXPECT_EQ(count_tokens("abcdefghi"), 2U);          // 8 + 1
  EXPECT_EQ(count_tokens("abcdefghijklmnop"), 2U);   // 8 + 8
  EXPECT_EQ(count_tokens("abcdefghijklmnopq"), 3U);  // 8 + 8 + 1
  EXPECT_EQ(count_tokens(std::string(80, 'x')), 10U);
}

TEST(SimTokenizer, ChunksCountBytesNotCharacters) {
  // "é" is 2 bytes in UTF-8: five of them are 10 bytes, so two pieces (8 + 2 bytes).
  EXPECT_EQ(count_tokens("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 2U);
  EXPECT_EQ(count_tokens("h\xc3\xa9llo"), 1U);
}

TEST(SimTokenizer, IsDeterministicAndEqualPiecesShareAnId) {
  const std::vector<TokenId> tokens = tokenize("x y x");
  ASSERT_EQ(tokens.size(), 3U);
  EXPECT_EQ(tokens[0], tokens[2]);
  EXPECT_NE(tokens[0], tokens[1]);
  EXPECT_EQ(tokenize("the quick brown fox"), tokenize("the quick brown fox"));
}

TEST(SimTokenizer, NumberedWordsGiveOneTokenEach) {
  std::string prompt;
  for (int i = 0; i < 500; ++i) {
    prompt += "w" + std::to_string(i) + " ";
  }
  EXPECT_EQ(count_tokens(prompt), 500U);
}

TEST(SimTokenizer, CountTokensMatchesTokenizeSize) {
  const std::vector<std::string> texts = {
      "", " ", "a", "a b", "  lead", "trail  ", "abcdefghijklmnopqrstuvwxyz", "x\ty\nz",
      "supercalifragilisticexpialidocious is long", "1 22 333 4444 55555 666666 7777777 88888888"};
  for (const std::string& text : texts) {
    EXPECT_EQ(count_tokens(text), tokenize(text).size()) << "text: \"" << text << "\"";
  }
}

TEST(SimVocabulary, KnowsThePiecesOfWhatItLearnedAndNothingElse) {
  Vocabulary vocabulary;
  vocabulary.learn("alpha beta abcdefghij");
  EXPECT_EQ(vocabulary.size(), 4U);  // "abcdefghij" is the pieces "abcdefgh" and "ij"
  const auto ids = tokenize("beta abcdefghij");
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_EQ(vocabulary.piece(ids[0]), "beta");
  EXPECT_EQ(vocabulary.piece(ids[1]), "abcdefgh");
  EXPECT_EQ(vocabulary.piece(ids[2]), "ij");
  EXPECT_EQ(vocabulary.piece(tokenize("gamma")[0]), std::nullopt);
  vocabulary.learn("alpha alpha");
  EXPECT_EQ(vocabulary.size(), 4U) << "a piece is kept once";
  EXPECT_EQ(token_pieces("  x yz\tabcdefghij "), (std::vector<std::string_view>{"x", "yz", "abcdefgh", "ij"}));
}

TEST(SimTokenizer, PieceBytesCutLongerWordsIntoSeveralTokens) {
  // sim.tokenizer_piece_bytes / --tokenizer-piece-bytes: 3 splits "river" into "riv" "er".
  EXPECT_THAT(token_pieces("the river", 3), ElementsAre("the", "riv", "er"));
  EXPECT_EQ(count_tokens("the river", 3), 3u);
  EXPECT_EQ(count_tokens("the river"), 2u);          // the default (8): one token a word
  EXPECT_EQ(count_tokens("between", 1), 7u);
  EXPECT_EQ(count_tokens("between", 0), 7u);         // 0 is treated as 1
  EXPECT_EQ(count_tokens("between", 99), 1u);        // above 8 is 8
  EXPECT_EQ(tokenize("river", 3).front(), tokenize("riv").front());  // a piece's id is its bytes' hash
  Vocabulary vocabulary(3);
  vocabulary.learn("river");
  EXPECT_EQ(vocabulary.piece(tokenize("er").front()), "er");
  EXPECT_FALSE(vocabulary.piece(tokenize("river").front()).has_value());
}

}  // namespace
}  // namespace llmd::sim
