// The in-memory filesystem and the descriptor table (runtime/libc/memfs.h, file.h).
#include "runtime/libc/memfs.h"

#include <gtest/gtest.h>
#include <string.h>

#include <string>

namespace skiff::posix {
namespace {

class MemfsTest : public ::testing::Test {
 protected:
  Filesystem fs{{}};

  File* OpenOk(const char* path, int flags, mode_t mode = 0644) {
    File* file = nullptr;
    EXPECT_EQ(fs.Open(path, flags, mode, &file), 0) << path;
    return file;
  }
  void WriteFile(const char* path, const std::string& text) {
    File* f = OpenOk(path, O_WRONLY | O_CREAT | O_TRUNC);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->Write(text.data(), text.size()), static_cast<ssize_t>(text.size()));
    f->Unref();
  }
  std::string ReadFile(const char* path) {
    File* f = OpenOk(path, O_RDONLY);
    if (f == nullptr) return "<none>";
    std::string out;
    char buffer[7];
    ssize_t n;
    while ((n = f->Read(buffer, sizeof(buffer))) > 0) out.append(buffer, n);
    EXPECT_EQ(n, 0);
    f->Unref();
    return out;
  }
  std::string Cwd() {
    char buffer[kPathMax];
    int n = fs.Getcwd(buffer, sizeof(buffer));
    return n < 0 ? "error " + std::to_string(-n) : std::string(buffer);
  }
};

TEST_F(MemfsTest, WritesAndReadsBackAFile) {
  WriteFile("/hello.txt", "hello, world\n");
  EXPECT_EQ(ReadFile("/hello.txt"), "hello, world\n");
  struct stat st;
  ASSERT_EQ(fs.Stat("/hello.txt", &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 13);
  EXPECT_EQ(st.st_mode & 0777, 0644);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(MemfsTest, OpenWithoutCreateOfAMissingFileIsENOENT) {
  File* f = nullptr;
  EXPECT_EQ(fs.Open("/missing", O_RDONLY, 0, &f), -ENOENT);
  EXPECT_EQ(fs.Open("/missing/child", O_RDWR | O_CREAT, 0644, &f), -ENOENT);
  EXPECT_EQ(f, nullptr);
}

TEST_F(MemfsTest, ExclusiveCreateOfAnExistingFileIsEEXIST) {
  WriteFile("/a", "x");
  File* f = nullptr;
  EXPECT_EQ(fs.Open("/a", O_RDWR | O_CREAT | O_EXCL, 0600, &f), -EEXIST);
}

TEST_F(MemfsTest, UmaskAppliesToNewFilesAndFolders) {
  EXPECT_EQ(fs.Umask(077), 022u);
  OpenOk("/f", O_WRONLY | O_CREAT, 0666)->Unref();
  ASSERT_EQ(fs.Mkdir("/d", 0777), 0);
  struct stat st;
  fs.Stat("/f", &st);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  fs.Stat("/d", &st);
  EXPECT_EQ(st.st_mode & 0777, 0700);
}

TEST_F(MemfsTest, AppendWritesAtTheEndWhateverTheOffset) {
  WriteFile("/log", "one\n");
  File* f = OpenOk("/log", O_WRONLY | O_APPEND);
  EXPECT_EQ(f->Seek(0, SEEK_SET), 0);
  EXPECT_EQ(f->Write("two\n", 4), 4);
  f->Unref();
  EXPECT_EQ(ReadFile("/log"), "one\ntwo\n");
}

TEST_F(MemfsTest, SeekPastTheEndLeavesAHoleOfZeros) {
  File* f = OpenOk("/sparse", O_RDWR | O_CREAT);
  EXPECT_EQ(f->Seek(5, SEEK_SET), 5);
  EXPECT_EQ(f->Write("x", 1), 1);
  EXPECT_EQ(f->Seek(0, SEEK_END), 6);
  EXPECT_EQ(f->Seek(-7, SEEK_CUR), -EINVAL);
  EXPECT_EQ(f->Seek(0, 42), -EINVAL);
  char buffer[6];
  EXPECT_EQ(f->ReadAt(buffer, sizeof(buffer), 0), 6);
  EXPECT_EQ(std::string(buffer, 6), std::string("\0\0\0\0\0x", 6));
  f->Unref();
}

TEST_F(MemfsTest, TruncateShrinksAndGrows) {
  WriteFile("/t", "abcdef");
  EXPECT_EQ(fs.Truncate("/t", 3), 0);
  EXPECT_EQ(ReadFile("/t"), "abc");
  EXPECT_EQ(fs.Truncate("/t", 5), 0);
  EXPECT_EQ(ReadFile("/t"), std::string("abc\0\0", 5));
  EXPECT_EQ(fs.Truncate("/t", -1), -EINVAL);
  File* ro = OpenOk("/t", O_RDONLY);
  EXPECT_EQ(ro->Truncate(0), -EINVAL);   // not open for writing, as Linux says
  ro->Unref();
  File* w = OpenOk("/t", O_WRONLY | O_TRUNC);
  struct stat st;
  w->Stat(&st);
  EXPECT_EQ(st.st_size, 0);
  w->Unref();
}

TEST_F(MemfsTest, DirectoriesNestAndDotsResolve) {
  ASSERT_EQ(fs.Mkdir("/a", 0755), 0);
  ASSERT_EQ(fs.Mkdir("/a/b", 0755), 0);
  WriteFile("/a/b/f", "deep");
  EXPECT_EQ(ReadFile("/a/./b/../b//f"), "deep");
  EXPECT_EQ(ReadFile("/../../a/b/f"), "deep");   // .. of the root is the root
  EXPECT_EQ(fs.Mkdir("/a", 0755), -EEXIST);
  EXPECT_EQ(fs.Mkdir("/x/y", 0755), -ENOENT);   // a missing parent
  struct stat st;
  ASSERT_EQ(fs.Stat("/a", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_nlink, 3u);   // ., its name, and b's ..
}

TEST_F(MemfsTest, APathThroughAFileIsENOTDIR) {
  WriteFile("/file", "x");
  File* f = nullptr;
  EXPECT_EQ(fs.Open("/file/x", O_RDONLY, 0, &f), -ENOTDIR);
  EXPECT_EQ(fs.Open("/file/", O_RDONLY, 0, &f), -ENOTDIR);
  EXPECT_EQ(fs.Mkdir("/file/d", 0755), -ENOTDIR);
  struct stat st;
  EXPECT_EQ(fs.Stat("/file/", &st), -ENOTDIR);
  EXPECT_EQ(fs.Open("/file", O_RDONLY | O_DIRECTORY, 0, &f), -ENOTDIR);
  EXPECT_EQ(fs.Open("/new/", O_WRONLY | O_CREAT, 0644, &f), -EISDIR);
}

TEST_F(MemfsTest, LongNamesAndPathsAreENAMETOOLONG) {
  std::string name(kNameMax, 'n');
  WriteFile(("/" + name).c_str(), "ok");
  std::string too_long = "/" + name + "n";
  File* f = nullptr;
  EXPECT_EQ(fs.Open(too_long.c_str(), O_WRONLY | O_CREAT, 0644, &f), -ENAMETOOLONG);
  std::string path;
  while (path.size() < kPathMax) path += "/.";
  struct stat st;
  EXPECT_EQ(fs.Stat(path.c_str(), &st), -ENAMETOOLONG);
  EXPECT_EQ(fs.Stat("", &st), -ENOENT);
}

TEST_F(MemfsTest, WritingAFolderIsEISDIR) {
  ASSERT_EQ(fs.Mkdir("/d", 0755), 0);
  File* f = nullptr;
  EXPECT_EQ(fs.Open("/d", O_WRONLY, 0, &f), -EISDIR);
  EXPECT_EQ(fs.Open("/d", O_RDWR | O_CREAT, 0644, &f), -EISDIR);
  f = OpenOk("/d", O_RDONLY);
  char c;
  EXPECT_EQ(f->Read(&c, 1), -EISDIR);
  f->Unref();
  EXPECT_EQ(fs.Unlink("/d"), -EISDIR);
  EXPECT_EQ(fs.Truncate("/d", 0), -EISDIR);
}

TEST_F(MemfsTest, ReaddirListsDotsThenNamesInOrderAndRewinds) {
  ASSERT_EQ(fs.Mkdir("/d", 0755), 0);
  WriteFile("/d/b", "");
  WriteFile("/d/a", "");
  ASSERT_EQ(fs.Mkdir("/d/c", 0755), 0);
  File* dir = OpenOk("/d", O_RDONLY | O_DIRECTORY);
  std::string names;
  DirEntry entry;
  while (dir->ReadDirEntry(&entry) == 1) names += std::string(entry.name) + ":" +
                                                   std::to_string(entry.type) + " ";
  EXPECT_EQ(names, ".:4 ..:4 a:8 b:8 c:4 ");
  EXPECT_EQ(dir->Seek(0, SEEK_SET), 0);
  ASSERT_EQ(dir->ReadDirEntry(&entry), 1);
  EXPECT_STREQ(entry.name, ".");
  dir->Unref();
  File* file = OpenOk("/d/a", O_RDONLY);
  EXPECT_EQ(file->ReadDirEntry(&entry), -ENOTDIR);
  file->Unref();
}

TEST_F(MemfsTest, RmdirRefusesWhatPosixRefuses) {
  ASSERT_EQ(fs.Mkdir("/d", 0755), 0);
  WriteFile("/d/f", "");
  WriteFile("/f", "");
  EXPECT_EQ(fs.Rmdir("/d"), -ENOTEMPTY);
  EXPECT_EQ(fs.Rmdir("/f"), -ENOTDIR);
  EXPECT_EQ(fs.Rmdir("/d/."), -EINVAL);
  EXPECT_EQ(fs.Rmdir("/"), -EBUSY);
  EXPECT_EQ(fs.Rmdir("/nothing"), -ENOENT);
  EXPECT_EQ(fs.Unlink("/d/f"), 0);
  EXPECT_EQ(fs.Rmdir("/d"), 0);
  struct stat st;
  EXPECT_EQ(fs.Stat("/d", &st), -ENOENT);
}

TEST_F(MemfsTest, AnUnlinkedFileLivesWhileOpen) {
  WriteFile("/tmpfile", "still here");
  File* f = OpenOk("/tmpfile", O_RDWR);
  EXPECT_EQ(fs.Unlink("/tmpfile"), 0);
  struct stat st;
  EXPECT_EQ(fs.Stat("/tmpfile", &st), -ENOENT);
  char buffer[10];
  EXPECT_EQ(f->Read(buffer, sizeof(buffer)), 10);
  EXPECT_EQ(std::string(buffer, 10), "still here");
  EXPECT_EQ(f->Stat(&st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  f->Unref();   // ASan reports a leak if the node stays
}

TEST_F(MemfsTest, RenameReplacesAFileAndMovesFolders) {
  WriteFile("/a", "new");
  WriteFile("/b", "old");
  ASSERT_EQ(fs.Rename("/a", "/b"), 0);
  EXPECT_EQ(ReadFile("/b"), "new");
  struct stat st;
  EXPECT_EQ(fs.Stat("/a", &st), -ENOENT);
  ASSERT_EQ(fs.Mkdir("/d", 0755), 0);
  ASSERT_EQ(fs.Mkdir("/e", 0755), 0);
  ASSERT_EQ(fs.Rename("/b", "/d/b"), 0);
  ASSERT_EQ(fs.Rename("/d", "/e/d2"), 0);
  EXPECT_EQ(ReadFile("/e/d2/b"), "new");
  EXPECT_EQ(ReadFile("/e/d2/../d2/b"), "new");
  EXPECT_EQ(fs.Rename("/e", "/e/d2/inside"), -EINVAL);
  EXPECT_EQ(fs.Rename("/e/d2/b", "/e"), -EISDIR);
  EXPECT_EQ(fs.Rename("/e", "/e/d2/b"), -EINVAL);   // into itself comes first, as on Linux
  ASSERT_EQ(fs.Mkdir("/empty", 0755), 0);
  EXPECT_EQ(fs.Rename("/empty", "/e/d2/b"), -ENOTDIR);
  EXPECT_EQ(fs.Rename("/empty", "/e"), -ENOTEMPTY);
  EXPECT_EQ(fs.Rename("/e/d2", "/empty"), 0);   // over an empty folder
  EXPECT_EQ(ReadFile("/empty/b"), "new");
  EXPECT_EQ(fs.Rename("/missing", "/x"), -ENOENT);
  EXPECT_EQ(fs.Rename("/empty/b", "/empty/b"), 0);
}

TEST_F(MemfsTest, HardLinksShareTheBytes) {
  WriteFile("/a", "shared");
  ASSERT_EQ(fs.Link("/a", "/b"), 0);
  struct stat st;
  fs.Stat("/a", &st);
  EXPECT_EQ(st.st_nlink, 2u);
  WriteFile("/b", "changed");
  EXPECT_EQ(ReadFile("/a"), "changed");
  EXPECT_EQ(fs.Unlink("/a"), 0);
  EXPECT_EQ(ReadFile("/b"), "changed");
  EXPECT_EQ(fs.Link("/b", "/b"), -EEXIST);
  ASSERT_EQ(fs.Mkdir("/d", 0755), 0);
  EXPECT_EQ(fs.Link("/d", "/d2"), -EPERM);
}

TEST_F(MemfsTest, WorkingDirectoryAndRelativePaths) {
  EXPECT_EQ(Cwd(), "/");
  ASSERT_EQ(fs.MkdirAll("/x/y/z", 0755), 0);
  ASSERT_EQ(fs.Chdir("/x/y"), 0);
  EXPECT_EQ(Cwd(), "/x/y");
  WriteFile("rel", "r");
  EXPECT_EQ(ReadFile("/x/y/rel"), "r");
  ASSERT_EQ(fs.Chdir("../y/z/.."), 0);
  EXPECT_EQ(Cwd(), "/x/y");
  char small[4];
  EXPECT_EQ(fs.Getcwd(small, sizeof(small)), -ERANGE);
  EXPECT_EQ(fs.Chdir("rel"), -ENOTDIR);
  ASSERT_EQ(fs.Chdir("z"), 0);
  ASSERT_EQ(fs.Rmdir("/x/y/z"), 0);   // Linux lets the working directory go
  EXPECT_EQ(Cwd(), "error " + std::to_string(ENOENT));
  File* f = nullptr;
  EXPECT_EQ(fs.Open("new", O_WRONLY | O_CREAT, 0644, &f), -ENOENT);
  ASSERT_EQ(fs.Chdir("/"), 0);
}

TEST_F(MemfsTest, SeededFilesKeepTheirBytesUntilWritten) {
  static const char kData[] = "from the image";
  ASSERT_EQ(fs.AddFile("/etc/motd", kData, strlen(kData), 0444), -ENOENT);
  ASSERT_EQ(fs.MkdirAll("/etc", 0755), 0);
  ASSERT_EQ(fs.AddFile("/etc/motd", kData, strlen(kData), 0444), 0);
  EXPECT_EQ(fs.used_bytes(), 0u);
  EXPECT_EQ(ReadFile("/etc/motd"), kData);
  File* f = OpenOk("/etc/motd", O_RDWR);
  EXPECT_EQ(f->WriteAt("FROM", 4, 0), 4);
  f->Unref();
  EXPECT_EQ(ReadFile("/etc/motd"), "FROM the image");
  EXPECT_STREQ(kData, "from the image");   // the image's bytes are untouched
  EXPECT_GT(fs.used_bytes(), 0u);
}

TEST_F(MemfsTest, AccessChecksExistenceAndExecuteBits) {
  WriteFile("/plain", "");
  EXPECT_EQ(fs.Access("/plain", R_OK | W_OK), 0);
  EXPECT_EQ(fs.Access("/plain", X_OK), -EACCES);
  EXPECT_EQ(fs.Chmod("/plain", 0755), 0);
  EXPECT_EQ(fs.Access("/plain", X_OK), 0);
  File* f = OpenOk("/plain", O_RDONLY);
  EXPECT_EQ(f->Chmod(0600), 0);   // fchmod
  f->Unref();
  EXPECT_EQ(fs.Access("/plain", X_OK), -EACCES);
  EXPECT_EQ(fs.Access("/none", F_OK), -ENOENT);
  EXPECT_EQ(fs.Access("/plain", 64), -EINVAL);
}

TEST(MemfsLimit, AFullFilesystemIsENOSPCAndKeepsWhatItHas) {
  Filesystem fs({.max_bytes = 1000});
  File* f = nullptr;
  ASSERT_EQ(fs.Open("/big", O_RDWR | O_CREAT, 0644, &f), 0);
  std::string chunk(300, 'x');
  EXPECT_EQ(f->Write(chunk.data(), chunk.size()), 300);
  EXPECT_EQ(f->Write(chunk.data(), chunk.size()), 300);
  EXPECT_EQ(f->Write(chunk.data(), chunk.size()), 300);
  EXPECT_EQ(f->Write(chunk.data(), chunk.size()), -ENOSPC);
  struct stat st;
  f->Stat(&st);
  EXPECT_EQ(st.st_size, 900);
  EXPECT_LE(fs.used_bytes(), 1000u);
  EXPECT_EQ(f->Truncate(2000), -ENOSPC);
  f->Unref();
  EXPECT_EQ(fs.Unlink("/big"), 0);
  EXPECT_EQ(fs.used_bytes(), 0u);
}

TEST(MemfsTimes, NewFilesTakeTheClock) {
  Filesystem fs({.now = [] { return uint64_t{1700000000123456789}; }});
  File* f = nullptr;
  ASSERT_EQ(fs.Open("/t", O_WRONLY | O_CREAT, 0644, &f), 0);
  f->Unref();
  struct stat st;
  fs.Stat("/t", &st);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
}

class CountingFile : public File {
 public:
  explicit CountingFile(int* live) : File(O_RDWR), live_(live) { ++*live_; }
  ~CountingFile() override { --*live_; }
  int Stat(struct stat* st) override {
    *st = {};
    return 0;
  }

 private:
  int* live_;
};

TEST(FdTable, LowestFreeFirstAndEMFILEWhenFull) {
  int live = 0;
  {
    FdTable table;
    EXPECT_EQ(table.Install(new CountingFile(&live)), 0);
    EXPECT_EQ(table.Install(new CountingFile(&live)), 1);
    EXPECT_EQ(table.Close(0), 0);
    EXPECT_EQ(table.Install(new CountingFile(&live)), 0);
    for (int i = 2; i < FdTable::kMaxFds; i++) table.Install(new CountingFile(&live));
    EXPECT_EQ(table.open_count(), FdTable::kMaxFds);
    EXPECT_EQ(table.Install(new CountingFile(&live)), -EMFILE);
    EXPECT_EQ(table.Dup(0), -EMFILE);
    EXPECT_EQ(live, FdTable::kMaxFds);   // the refused file was dropped
  }
  EXPECT_EQ(live, 0);
}

TEST(FdTable, DupSharesTheFileUntilTheLastClose) {
  int live = 0;
  FdTable table;
  int fd = table.Install(new CountingFile(&live));
  int copy = table.Dup(fd);
  EXPECT_EQ(copy, 1);
  EXPECT_EQ(table.Get(copy), table.Get(fd));
  EXPECT_EQ(table.Dup2(fd, 7), 7);
  EXPECT_EQ(table.Dup2(fd, fd), fd);
  EXPECT_EQ(table.Dup(fd, 5), 5);
  table.Close(fd);
  table.Close(copy);
  table.Close(5);
  EXPECT_EQ(live, 1);
  table.Close(7);
  EXPECT_EQ(live, 0);
  EXPECT_EQ(table.Close(7), -EBADF);
  EXPECT_EQ(table.Close(-1), -EBADF);
  EXPECT_EQ(table.Close(FdTable::kMaxFds), -EBADF);
  EXPECT_EQ(table.Dup2(7, 1), -EBADF);
}

TEST(FdTable, CloexecIsPerDescriptor) {
  int live = 0;
  FdTable table;
  int fd = table.Install(new CountingFile(&live), 0, /*cloexec=*/true);
  EXPECT_EQ(table.GetFdFlags(fd), FD_CLOEXEC);
  int copy = table.Dup(fd);
  EXPECT_EQ(table.GetFdFlags(copy), 0);
  EXPECT_EQ(table.SetFdFlags(fd, 0), 0);
  EXPECT_EQ(table.GetFdFlags(fd), 0);
  EXPECT_EQ(table.GetFdFlags(99), -EBADF);
}

}  // namespace
}  // namespace skiff::posix
