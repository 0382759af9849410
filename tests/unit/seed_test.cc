// Seeding the filesystem from tar archives (runtime/libc/seed.h): archives written by GNU
// tar itself, and hand-made bad ones.
#include "runtime/libc/seed.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

namespace skiff::posix {
namespace {

// One ustar header block for |name| (and its data, padded), with a correct checksum.
std::string Member(const std::string& name, char type, const std::string& data,
                   const char* mode = "0000644") {
  std::string block(512, '\0');
  memcpy(&block[0], name.data(), name.size() < 100 ? name.size() : 100);
  memcpy(&block[100], mode, strlen(mode));
  snprintf(&block[124], 12, "%011o", static_cast<unsigned>(data.size()));
  block[156] = type;
  memcpy(&block[257], "ustar", 6);
  memcpy(&block[263], "00", 2);
  memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  snprintf(&block[148], 8, "%06o", sum);
  std::string padded = data;
  padded.resize((data.size() + 511) / 512 * 512, '\0');
  return block + padded;
}

std::string End() { return std::string(1024, '\0'); }

std::string ReadAll(Filesystem& fs, const char* path) {
  File* f = nullptr;
  if (fs.Open(path, O_RDONLY, 0, &f) < 0) return "<none>";
  std::string out(4096, '\0');
  ssize_t n = f->Read(&out[0], out.size());
  f->Unref();
  out.resize(n < 0 ? 0 : n);
  return out;
}

// Runs a shell command and returns what it wrote.
std::string Shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << command;
  return out;
}

TEST(Seed, TakesFilesAndFoldersFromGnuTar) {
  char dir[] = "/tmp/seedXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string d = dir;
  std::string long_name(150, 'l');   // past ustar's 100 bytes: a pax header
  Shell("mkdir -p " + d + "/etc/app " + d + "/empty && printf 'port=80\\n' > " + d +
        "/etc/app/app.conf && printf 'x' > " + d + "/" + long_name + " && chmod 755 " + d +
        "/etc/app/app.conf");
  std::string tar = Shell("tar --format=pax -cf - -C " + d + " .");
  Shell("rm -rf " + d);
  Filesystem fs({});
  Result<SeedCount> count = SeedFromTar(fs, tar.data(), tar.size(), "test.tar");
  ASSERT_TRUE(count) << count.error().message;
  EXPECT_EQ(count->files, 2u);
  EXPECT_EQ(ReadAll(fs, "/etc/app/app.conf"), "port=80\n");
  EXPECT_EQ(ReadAll(fs, ("/" + long_name).c_str()), "x");
  struct stat st;
  ASSERT_EQ(fs.Stat("/empty", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_EQ(fs.Stat("/etc/app/app.conf", &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755);
  EXPECT_EQ(fs.used_bytes(), 0u);   // the bytes stay in the archive
}

TEST(Seed, MakesMissingParentsAndTakesAnArchiveWithoutEndBlocks) {
  std::string tar = Member("a/b/c.txt", '0', "hello");
  Filesystem fs({});
  Result<SeedCount> count = SeedFromTar(fs, tar.data(), tar.size(), "t");
  ASSERT_TRUE(count) << count.error().message;
  EXPECT_EQ(ReadAll(fs, "/a/b/c.txt"), "hello");
}

TEST(Seed, ABadChecksumNamesTheArchiveAndTheOffset) {
  std::string tar = Member("good", '0', "1") + Member("bad", '0', "2") + End();
  tar[1024 + 10] = 'X';   // the second header, after it was summed
  Filesystem fs({});
  Result<SeedCount> count = SeedFromTar(fs, tar.data(), tar.size(), "ramdisk");
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().message, "ramdisk: a header with a bad checksum at byte 1024");
  EXPECT_EQ(ReadAll(fs, "/good"), "1");   // what came before stays
}

TEST(Seed, AMemberPastTheEndIsRefused) {
  std::string tar = Member("f", '0', std::string(600, 'x'));
  tar.resize(700);
  Filesystem fs({});
  Result<SeedCount> count = SeedFromTar(fs, tar.data(), tar.size(), "t");
  ASSERT_FALSE(count);
  EXPECT_NE(count.error().message.find("runs past the end"), std::string::npos);
}

TEST(Seed, LinksAreErrorsThatNameTheMember) {
  Filesystem fs({});
  std::string link = Member("l", '2', "");
  Result<SeedCount> count = SeedFromTar(fs, link.data(), link.size(), "t");
  ASSERT_FALSE(count);
  EXPECT_NE(count.error().message.find("member /l"), std::string::npos);
}

TEST(Seed, ALaterCopyReplacesAFileButNotAFolder) {
  Filesystem fs({});
  std::string image = Member("etc/conf", '0', "from the image") + End();
  std::string ramdisk = Member("etc/conf", '0', "from the ramdisk") + End();
  ASSERT_TRUE(SeedFromTar(fs, image.data(), image.size(), "image"));
  ASSERT_TRUE(SeedFromTar(fs, ramdisk.data(), ramdisk.size(), "ramdisk"));
  EXPECT_EQ(ReadAll(fs, "/etc/conf"), "from the ramdisk");
  std::string over_folder = Member("etc", '0', "x") + End();
  Result<SeedCount> count = SeedFromTar(fs, over_folder.data(), over_folder.size(), "t");
  ASSERT_FALSE(count);
  EXPECT_NE(count.error().message.find("File exists"), std::string::npos)
      << count.error().message;
}

TEST(Seed, AnEmptyArchiveIsEmpty) {
  Filesystem fs({});
  std::string end = End();
  Result<SeedCount> count = SeedFromTar(fs, end.data(), end.size(), "t");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->files, 0u);
  ASSERT_FALSE(SeedFromTar(fs, end.data(), 100, "t"));
}

}  // namespace
}  // namespace skiff::posix
