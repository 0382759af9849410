// The console's line discipline for stdin (runtime/libc/tty.h).
#include "runtime/libc/tty.h"

#include <gtest/gtest.h>

#include <string>

namespace skiff::posix {
namespace {

std::string ReadOnce(LineDiscipline& tty, size_t len = 100) {
  std::string out(len, '\0');
  out.resize(tty.Read(&out[0], len));
  return out;
}

TEST(LineDiscipline, HandsOverWholeLinesOneReadEach) {
  LineDiscipline tty;
  std::string echo;
  tty.Input("print(1)\rx = 2\npart", &echo);
  EXPECT_EQ(echo, "print(1)\r\nx = 2\r\npart");
  ASSERT_TRUE(tty.ready());
  EXPECT_EQ(ReadOnce(tty), "print(1)\n");
  EXPECT_EQ(ReadOnce(tty), "x = 2\n");
  EXPECT_FALSE(tty.ready());   // "part" is still being typed
  tty.Input("\n", &echo);
  EXPECT_EQ(ReadOnce(tty, 2), "pa");
  EXPECT_EQ(ReadOnce(tty), "rt\n");
}

TEST(LineDiscipline, BackspaceAndKillEditTheLine) {
  LineDiscipline tty;
  std::string echo;
  tty.Input("ab\x7fxy\bz\n", &echo);
  EXPECT_EQ(ReadOnce(tty), "axz\n");
  echo.clear();
  tty.Input("gone\x15kept\n", &echo);
  EXPECT_EQ(ReadOnce(tty), "kept\n");
  EXPECT_EQ(echo.substr(0, 4 + 12), "gone\b \b\b \b\b \b\b \b");
  echo.clear();
  tty.Input("\x7f", &echo);   // nothing to erase
  EXPECT_EQ(echo, "");
}

TEST(LineDiscipline, CtrlDOnAnEmptyLineIsEndOfFileOnce) {
  LineDiscipline tty;
  std::string echo;
  tty.Input("last\x04\x04more\n", &echo);
  EXPECT_EQ(ReadOnce(tty), "last");   // handed over without a newline
  ASSERT_TRUE(tty.ready());
  EXPECT_EQ(ReadOnce(tty), "");       // end of file
  EXPECT_EQ(ReadOnce(tty), "more\n");  // and reading goes on, as on a terminal
  EXPECT_FALSE(tty.ready());
}

TEST(LineDiscipline, CtrlCDropsTheLineAndReportsAnInterrupt) {
  LineDiscipline tty;
  std::string echo;
  EXPECT_TRUE(tty.Input("half\x03", &echo));
  EXPECT_EQ(echo, "half^C\r\n");
  EXPECT_FALSE(tty.ready());
  EXPECT_FALSE(tty.Input("ok\n", &echo));
  EXPECT_EQ(ReadOnce(tty), "ok\n");
}

TEST(LineDiscipline, AFullLineRingsTheBellAndKeepsItsStart) {
  LineDiscipline tty;
  std::string echo;
  tty.Input(std::string(LineDiscipline::kMaxLine + 10, 'x') + "\n", &echo);
  EXPECT_EQ(echo.back(), '\n');
  EXPECT_EQ(ReadOnce(tty, 10000).size(), LineDiscipline::kMaxLine + 1);
}

TEST(LineDiscipline, ControlCharactersEchoAsCaret) {
  LineDiscipline tty;
  std::string echo;
  tty.Input("\x1b[A\tx", &echo);
  EXPECT_EQ(echo, "^[[A\tx");
}

}  // namespace
}  // namespace skiff::posix
