#include "runtime/cmdline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skiff {
namespace {

struct Split {
  std::vector<std::string> args;
  const char* error;
};

Split SplitString(std::string line, int max_args = 16) {
  std::vector<char> buffer(line.begin(), line.end());
  buffer.push_back('\0');
  std::vector<char*> argv(max_args + 1);
  argv[0] = const_cast<char*>("app");
  ParsedCmdline parsed = SplitCmdline(buffer.data(), argv.data(), 1, max_args);
  Split result{{}, parsed.error};
  for (int i = 0; i < parsed.argc; i++) result.args.push_back(argv[i]);
  if (parsed.error == nullptr) {
    EXPECT_EQ(argv[parsed.argc], nullptr);
  }
  return result;
}

using Args = std::vector<std::string>;

TEST(Cmdline, EmptyLineGivesOnlyTheAppName) {
  EXPECT_EQ(SplitString("").args, Args{"app"});
  EXPECT_EQ(SplitString("  \t ").args, Args{"app"});
}

TEST(Cmdline, SplitsOnSpacesAndTabs) {
  EXPECT_EQ(SplitString(" one  two\tthree ").args, (Args{"app", "one", "two", "three"}));
}

TEST(Cmdline, DoubleQuotesKeepSpacesAndAllowEscapes) {
  EXPECT_EQ(SplitString(R"(a "b c" "d\"e" "")").args, (Args{"app", "a", "b c", "d\"e", ""}));
}

TEST(Cmdline, SingleQuotesAreLiteral) {
  EXPECT_EQ(SplitString(R"('x\y "z"' w)").args, (Args{"app", R"(x\y "z")", "w"}));
}

TEST(Cmdline, BackslashEscapesOutsideQuotes) {
  EXPECT_EQ(SplitString(R"(f\ g h\\i)").args, (Args{"app", "f g", R"(h\i)"}));
}

TEST(Cmdline, QuotesJoinWithAdjacentText) {
  EXPECT_EQ(SplitString(R"(--name="Skiff guest")").args, (Args{"app", "--name=Skiff guest"}));
}

TEST(Cmdline, UnterminatedQuoteIsAnError) {
  Split s = SplitString(R"(a "b c)");
  EXPECT_STREQ(s.error, "unterminated \" on the command line");
  EXPECT_TRUE(s.args.empty());
  EXPECT_STREQ(SplitString("'x").error, "unterminated ' on the command line");
}

TEST(Cmdline, TooManyWordsIsAnError) {
  EXPECT_STREQ(SplitString("a b c d", 4).error, "too many words on the command line");
  EXPECT_EQ(SplitString("a b c", 4).args.size(), 4u);
}

}  // namespace
}  // namespace skiff
