// The POSIX layer under Xen, used as ported C code uses it: descriptors, files, folders,
// the image's files, the environment, stdin, signals and the process calls. The case is
// argv[1]; tests/system/test_posix.py boots each and reads the "ok:"/"FAIL:" lines.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern "C" {
#include <sys/resource.h>
}

#include <string>

#include "skiff/sched.h"
#include "tests/guest/check.h"

extern "C" char** environ;

// The app's own environment, given at link time.
extern "C" const char* const skiff_environ[] = {"FROM_LINK=yes", "GREETING=from the link",
                                                nullptr};

namespace {

bool Fails(int rc, int error) { return rc == -1 && errno == error; }

std::string ReadAll(const char* path) {
  FILE* f = fopen(path, "r");
  if (f == nullptr) return "<" + std::string(strerror(errno)) + ">";
  std::string out;
  char buffer[256];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0) out.append(buffer, n);
  fclose(f);
  return out;
}

int Files() {
  int fd = open("/tmp/a.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  Check(fd >= 3, "open(O_CREAT) gives the lowest free descriptor after the console's");
  Check(write(fd, "hello, file\n", 12) == 12, "write returns the bytes written");
  Check(lseek(fd, 0, SEEK_CUR) == 12 && lseek(fd, 7, SEEK_SET) == 7, "lseek moves the offset");
  char buffer[64] = {};
  Check(read(fd, buffer, sizeof(buffer)) == 5 && strcmp(buffer, "file\n") == 0,
        "read continues from the offset and stops at the end");
  Check(read(fd, buffer, sizeof(buffer)) == 0, "read at the end returns 0");
  Check(pwrite(fd, "HELLO", 5, 0) == 5 && pread(fd, buffer, 5, 0) == 5 &&
            memcmp(buffer, "HELLO", 5) == 0 && lseek(fd, 0, SEEK_CUR) == 12,
        "pread and pwrite leave the offset alone");
  struct stat st;
  Check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 12 &&
            (st.st_mode & 0777) == 0644,
        "fstat gives a regular file, its size and mode");
  Check(stat("/tmp/a.txt", &st) == 0 && st.st_size == 12 && lstat("/tmp/a.txt", &st) == 0,
        "stat and lstat find it by name");
  Check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5 && fsync(fd) == 0,
        "ftruncate shrinks; fsync succeeds");
  int copy = dup(fd);
  lseek(fd, 0, SEEK_SET);
  Check(copy > fd && lseek(copy, 0, SEEK_CUR) == 0, "dup shares the offset");
  Check(dup2(fd, 20) == 20 && fcntl(20, F_GETFL) == O_RDWR, "dup2 to a chosen number");
  Check(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC &&
            fcntl(copy, F_GETFD) == 0,
        "FD_CLOEXEC is the descriptor's own");
  Check(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(copy, F_GETFL) & O_APPEND) != 0,
        "status flags belong to the open file, shared by dup");
  write(copy, "+", 1);
  Check(fstat(fd, &st) == 0 && st.st_size == 6, "O_APPEND writes at the end");
  close(copy);
  close(20);
  Check(isatty(0) == 1 && isatty(1) == 1 && isatty(fd) == 0 && errno == ENOTTY,
        "the console is a terminal, a file is not (ENOTTY)");
  close(fd);

  FILE* f = fopen("/tmp/stdio.txt", "w");
  Check(f != nullptr && fprintf(f, "%d %s %.3f\n", 42, "words", 2.5) > 0 && fclose(f) == 0,
        "fopen(\"w\") and fprintf");
  Check(ReadAll("/tmp/stdio.txt") == "42 words 2.500\n", "fopen(\"r\") reads it back");
  f = fopen("/tmp/stdio.txt", "a+");
  fputs("more\n", f);
  fclose(f);
  Check(ReadAll("/tmp/stdio.txt") == "42 words 2.500\nmore\n", "fopen(\"a+\") appends");
  Check(rename("/tmp/stdio.txt", "/tmp/a.txt") == 0 &&
            ReadAll("/tmp/a.txt") == "42 words 2.500\nmore\n" && access("/tmp/stdio.txt", F_OK) == -1,
        "rename replaces an existing file");
  Check(link("/tmp/a.txt", "/tmp/b.txt") == 0 && stat("/tmp/a.txt", &st) == 0 && st.st_nlink == 2,
        "link makes a second name");
  Check(remove("/tmp/a.txt") == 0 && ReadAll("/tmp/b.txt") == "42 words 2.500\nmore\n",
        "remove takes one name; the other keeps the bytes");

  FILE* tmp = tmpfile();
  Check(tmp != nullptr && fputs("scratch", tmp) >= 0 && fseek(tmp, 0, SEEK_SET) == 0 &&
            fgets(buffer, sizeof(buffer), tmp) != nullptr && strcmp(buffer, "scratch") == 0,
        "tmpfile is a working file");
  if (tmp != nullptr) fclose(tmp);
  char name[] = "/tmp/fileXXXXXX";
  int temp = mkstemp(name);
  Check(temp >= 0 && strncmp(name, "/tmp/file", 9) == 0 && strcmp(name + 9, "XXXXXX") != 0 &&
            access(name, R_OK | W_OK) == 0,
        "mkstemp makes a unique file");
  close(temp);
  char* tmp_name = tmpnam(nullptr);
  Check(tmp_name != nullptr && access(tmp_name, F_OK) == -1 && errno == ENOENT,
        "tmpnam names a file that does not exist");

  int null = open("/dev/null", O_RDWR);
  Check(null >= 0 && write(null, "gone", 4) == 4 && read(null, buffer, 4) == 0,
        "/dev/null swallows writes and reads as empty");
  close(null);
  int zero = open("/dev/zero", O_RDONLY);
  memset(buffer, 1, 8);
  Check(zero >= 0 && read(zero, buffer, 8) == 8 && buffer[0] == 0 && buffer[7] == 0,
        "/dev/zero reads zeros");
  close(zero);
  int full = open("/dev/full", O_WRONLY);
  Check(full >= 0 && Fails(write(full, "x", 1), ENOSPC), "/dev/full: every write is ENOSPC");
  close(full);
  umask(077);
  fd = open("/tmp/private", O_WRONLY | O_CREAT, 0666);
  Check(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600, "umask applies");
  close(fd);
  return failures;
}

int Folders() {
  Check(mkdir("/project", 0755) == 0 && mkdir("/project/src", 0755) == 0, "mkdir nests");
  Check(Fails(mkdir("/project", 0755), EEXIST), "mkdir of an existing folder is EEXIST");
  Check(Fails(mkdir("/no/such", 0755), ENOENT), "mkdir under a missing parent is ENOENT");
  for (const char* name : {"/project/src/main.c", "/project/src/util.c", "/project/README"}) {
    close(open(name, O_WRONLY | O_CREAT, 0644));
  }
  DIR* dir = opendir("/project/src");
  std::string names;
  while (struct dirent* entry = readdir(dir)) {
    names += entry->d_name;
    names += entry->d_type == DT_DIR ? "/ " : " ";
  }
  closedir(dir);
  Check(names == "./ ../ main.c util.c ", "readdir lists ., .. and the files");
  struct dirent** list;
  int n = scandir("/project", &list, nullptr, alphasort);
  Check(n == 4 && strcmp(list[2]->d_name, "README") == 0 && strcmp(list[3]->d_name, "src") == 0,
        "scandir with alphasort");
  for (int i = 0; i < n; i++) free(list[i]);
  free(list);
  Check(chdir("/project/src") == 0, "chdir");
  char cwd[PATH_MAX];
  Check(getcwd(cwd, sizeof(cwd)) != nullptr && strcmp(cwd, "/project/src") == 0, "getcwd");
  Check(access("main.c", F_OK) == 0 && access("../README", F_OK) == 0 &&
            access("./../src/./util.c", F_OK) == 0,
        "relative paths, . and .. resolve from the working folder");
  char resolved[PATH_MAX];
  Check(realpath("../src/../README", resolved) != nullptr && strcmp(resolved, "/project/README") == 0,
        "realpath");
  Check(Fails(getcwd(cwd, 3) != nullptr ? 0 : -1, ERANGE), "getcwd into too small a buffer is ERANGE");
  chdir("/");
  Check(Fails(rmdir("/project/src"), ENOTEMPTY), "rmdir of a folder with files is ENOTEMPTY");
  Check(unlink("/project/src/main.c") == 0 && unlink("/project/src/util.c") == 0 &&
            rmdir("/project/src") == 0 && Fails(access("/project/src", F_OK), ENOENT),
        "rmdir of an empty folder");
  Check(rename("/project", "/job") == 0 && access("/job/README", F_OK) == 0, "rename moves a folder");
  struct stat st;
  Check(stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777,
        "/tmp is there, sticky and writable by all");
  return failures;
}

int Errors() {
  close(open("/tmp/file", O_WRONLY | O_CREAT, 0644));
  Check(Fails(open("/tmp/file/x", O_RDONLY), ENOTDIR), "a path through a file is ENOTDIR");
  std::string long_name = "/tmp/" + std::string(NAME_MAX + 1, 'n');
  Check(Fails(open(long_name.c_str(), O_WRONLY | O_CREAT, 0644), ENAMETOOLONG),
        "a name longer than NAME_MAX is ENAMETOOLONG");
  std::string long_path;
  while (long_path.size() < 4096) long_path += "/tmp";
  Check(Fails(access(long_path.c_str(), F_OK), ENAMETOOLONG),
        "a path longer than PATH_MAX is ENAMETOOLONG");
  Check(Fails(open("/missing/file", O_WRONLY | O_CREAT, 0644), ENOENT),
        "a missing parent is ENOENT");
  int wo = open("/tmp/file", O_WRONLY);
  char c;
  Check(Fails(read(wo, &c, 1), EBADF), "a read from a write-only descriptor is EBADF");
  close(wo);
  int ro = open("/tmp/file", O_RDONLY);
  Check(Fails(write(ro, "x", 1), EBADF), "a write to a read-only descriptor is EBADF");
  close(ro);
  Check(Fails(read(ro, &c, 1), EBADF) && Fails(close(ro), EBADF) && Fails(fstat(ro, nullptr), EBADF),
        "a closed descriptor is EBADF");
  Check(Fails(read(-1, &c, 1), EBADF) && Fails(dup2(1, -1), EBADF), "a negative one too");
  Check(Fails(open("/tmp", O_WRONLY), EISDIR) && Fails(unlink("/tmp"), EISDIR),
        "writing or unlinking a folder is EISDIR");
  Check(Fails(open("/tmp/file", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST), "O_EXCL is EEXIST");
  Check(Fails(lseek(1, 0, SEEK_SET), ESPIPE), "seeking the console is ESPIPE");
  Check(Fails(rmdir("/"), EBUSY), "rmdir of / is EBUSY");
  int opened = 0, last = -1;
  while ((last = open("/tmp/file", O_RDONLY)) >= 0) opened++;
  Check(last == -1 && errno == EMFILE, "running out of descriptors is EMFILE");
  printf("opened %d more descriptors\n", opened);
  Check(opened + 3 + 0 == 1024 - 0 || opened > 1000, "about 1024 descriptors in all");
  for (int fd = 3; fd < 1024; fd++) close(fd);
  Check(open("/tmp/file", O_RDONLY) == 3, "closing them frees the numbers");
  FILE* f = fopen("/nothing/here", "r");
  Check(f == nullptr && errno == ENOENT, "fopen of a missing file is NULL with ENOENT");
  return failures;
}

int Seed() {
  Check(ReadAll("/etc/app/app.conf") == "name = skiff\nport = 8080\n",
        "a file shipped in the image is at its path");
  FILE* f = fopen("/data/numbers.txt", "r");
  long sum = 0, n;
  while (f != nullptr && fscanf(f, "%ld", &n) == 1) sum += n;
  if (f != nullptr) fclose(f);
  Check(sum == 500500, "a 1000-line data file reads whole");
  struct stat st;
  Check(stat("/srv/readme.txt", &st) == 0 && st.st_size > 100, "a file placed with DEST=SOURCE");
  f = fopen("/etc/app/app.conf", "r+");
  fputs("NAME", f);
  fclose(f);
  Check(ReadAll("/etc/app/app.conf") == "NAME = skiff\nport = 8080\n",
        "a shipped file can be written");
  return failures;
}

// Booted with a ramdisk that holds etc/app/app.conf and notes/hello.txt.
int Ramdisk() {
  Check(ReadAll("/etc/app/app.conf") == "from the ramdisk\n",
        "a file in the ramdisk replaces the image's");
  Check(ReadAll("/notes/hello.txt") == "hello from the ramdisk\n", "a new file from the ramdisk");
  Check(ReadAll("/data/numbers.txt").size() == 3893, "the image's other files are still there");
  return failures;
}

int Full() {
  int fd = open("/tmp/big", O_WRONLY | O_CREAT, 0644);
  static char chunk[1 << 20];
  memset(chunk, 'x', sizeof(chunk));
  long total = 0;
  ssize_t n;
  while ((n = write(fd, chunk, sizeof(chunk))) > 0) total += n;
  Check(n == -1 && errno == ENOSPC, "writing until the filesystem is full ends in ENOSPC");
  printf("wrote %ld MiB before ENOSPC\n", total >> 20);
  struct stat st;
  Check(fstat(fd, &st) == 0 && st.st_size == total, "what was written is kept");
  void* p = malloc(1 << 20);
  Check(p != nullptr, "the heap still has room");
  free(p);
  close(fd);
  Check(unlink("/tmp/big") == 0, "unlink gives the space back");
  fd = open("/tmp/again", O_WRONLY | O_CREAT, 0644);
  Check(write(fd, chunk, sizeof(chunk)) == sizeof(chunk), "and writing works again");
  close(fd);
  return failures;
}

int Concurrent() {
  constexpr int kTasks = 20, kLines = 100;
  skiff::Task* tasks[kTasks];
  for (int t = 0; t < kTasks; t++) {
    tasks[t] = *skiff::Spawn([t] {
      char path[32];
      snprintf(path, sizeof(path), "/tmp/task%d", t);
      FILE* own = fopen(path, "w");
      int shared = open("/tmp/shared", O_WRONLY | O_CREAT | O_APPEND, 0644);
      for (int i = 0; i < kLines; i++) {
        fprintf(own, "%d %d\n", t, i);
        char line[32];
        int len = snprintf(line, sizeof(line), "t%d-%d\n", t, i);
        write(shared, line, len);
        skiff::Yield();
      }
      fclose(own);
      close(shared);
    });
  }
  for (skiff::Task* task : tasks) skiff::Join(task);
  bool all = true;
  for (int t = 0; t < kTasks; t++) {
    char path[32];
    snprintf(path, sizeof(path), "/tmp/task%d", t);
    std::string expect;
    for (int i = 0; i < kLines; i++) expect += std::to_string(t) + " " + std::to_string(i) + "\n";
    all &= ReadAll(path) == expect;
  }
  Check(all, "20 tasks each wrote their own file, interleaved, and each reads back whole");
  std::string shared = ReadAll("/tmp/shared");
  size_t lines = 0;
  for (char c : shared) lines += c == '\n';
  Check(lines == kTasks * kLines && shared.find("t19-99\n") != std::string::npos,
        "their appends to one file are all there, none torn");
  return failures;
}

int Pipes() {
  int fds[2];
  Check(pipe(fds) == 0 && fds[0] == 3 && fds[1] == 4, "pipe gives two descriptors");
  constexpr size_t kTotal = 1 << 20;
  uint64_t sent = 0, received = 0;
  skiff::Task* writer = *skiff::Spawn([&] {
    static char chunk[3000];
    for (size_t done = 0; done < kTotal;) {
      size_t n = kTotal - done < sizeof(chunk) ? kTotal - done : sizeof(chunk);
      for (size_t i = 0; i < n; i++) chunk[i] = static_cast<char>((done + i) * 7);
      ssize_t w = write(fds[1], chunk, n);
      if (w <= 0) break;
      for (ssize_t i = 0; i < w; i++) sent += static_cast<unsigned char>(chunk[i]) * (done + i);
      done += static_cast<size_t>(w);
    }
    close(fds[1]);
  });
  char buffer[5000];
  size_t total = 0;
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    for (ssize_t i = 0; i < n; i++) received += static_cast<unsigned char>(buffer[i]) * (total + i);
    total += static_cast<size_t>(n);
  }
  skiff::Join(writer);
  Check(n == 0 && total == kTotal && sent == received,
        "1 MiB through a pipe between two tasks arrives whole and in order, then end of file");
  close(fds[0]);
  pipe(fds);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  Check(Fails(write(fds[1], "x", 1), EPIPE), "a write with no reader left is EPIPE");
  close(fds[1]);
  pipe(fds);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  Check(Fails(read(fds[0], buffer, 1), EAGAIN), "a non-blocking read of an empty pipe is EAGAIN");
  struct stat st;
  Check(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode) && Fails(lseek(fds[0], 0, SEEK_SET), ESPIPE),
        "a pipe is a FIFO and cannot seek");
  return failures;
}

int Polling() {
  int fds[2];
  pipe(fds);
  struct pollfd p = {fds[0], POLLIN, 0};
  uint64_t start = skiff::Now();
  Check(poll(&p, 1, 100) == 0 && skiff::Now() - start >= 100'000'000,
        "poll of an empty pipe times out after 100 ms");
  skiff::Task* writer = *skiff::Spawn([&] {
    skiff::SleepFor(50'000'000);
    write(fds[1], "x", 1);
  });
  start = skiff::Now();
  Check(poll(&p, 1, -1) == 1 && p.revents == POLLIN && skiff::Now() - start >= 50'000'000,
        "poll waits until another task writes, then says POLLIN");
  skiff::Join(writer);
  fd_set reads, writes;
  FD_ZERO(&reads);
  FD_ZERO(&writes);
  FD_SET(fds[0], &reads);
  FD_SET(fds[1], &writes);
  struct timeval zero = {0, 0};
  Check(select(fds[1] + 1, &reads, &writes, nullptr, &zero) == 2 && FD_ISSET(fds[0], &reads) &&
            FD_ISSET(fds[1], &writes),
        "select: the read end is readable and the write end writable");
  close(fds[1]);
  char c;
  read(fds[0], &c, 1);
  Check(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "with the writer gone, POLLHUP");
  close(fds[0]);
  struct pollfd bad = {fds[0], POLLIN, 0};
  Check(poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL, "a closed descriptor is POLLNVAL");
  FD_ZERO(&reads);
  FD_SET(fds[0], &reads);
  Check(Fails(select(fds[0] + 1, &reads, nullptr, nullptr, &zero), EBADF), "select of one is EBADF");
  int file = open("/tmp/polled", O_RDWR | O_CREAT, 0644);
  struct pollfd f = {file, POLLIN | POLLOUT, 0};
  Check(poll(&f, 1, 0) == 1 && f.revents == (POLLIN | POLLOUT), "a file is always ready");
  close(file);
  return failures;
}

volatile int alarms;

int Alarm() {
  signal(SIGALRM, [](int) { alarms = alarms + 1; });
  uint64_t start = skiff::Now();
  Check(alarm(1) == 0, "alarm(1)");
  while (alarms == 0 && skiff::Now() - start < 3'000'000'000) skiff::SleepFor(10'000'000);
  uint64_t elapsed = skiff::Now() - start;
  Check(alarms == 1 && elapsed >= 1'000'000'000 && elapsed < 2'500'000'000,
        "SIGALRM comes a second later");
  alarm(10);
  Check(alarm(0) == 10, "alarm(0) cancels and says what was left");
  skiff::SleepFor(100'000'000);
  Check(alarms == 1, "a cancelled alarm does not come");
  signal(SIGALRM, SIG_DFL);
  alarm(1);
  skiff::SleepFor(3'000'000'000);
  return Fail("still running after an unhandled SIGALRM");
}

int Environment() {
  Check(getenv("GREETING") != nullptr && strcmp(getenv("GREETING"), "hello") == 0,
        "skiff.env=KEY=VALUE on the command line sets a variable, over the app's");
  Check(getenv("SPACED") != nullptr && strcmp(getenv("SPACED"), "a b=c") == 0,
        "a quoted value keeps its spaces and '='");
  Check(getenv("FROM_LINK") != nullptr && strcmp(getenv("FROM_LINK"), "yes") == 0,
        "the app's skiff_environ sets variables");
  Check(getenv("HOME") != nullptr && strcmp(getenv("HOME"), "/") == 0, "HOME is /");
  Check(getenv("NOT_SET") == nullptr, "an unset variable is NULL");
  Check(setenv("NEW", "1", 0) == 0 && strcmp(getenv("NEW"), "1") == 0 &&
            setenv("NEW", "2", 0) == 0 && strcmp(getenv("NEW"), "1") == 0 &&
            setenv("NEW", "3", 1) == 0 && strcmp(getenv("NEW"), "3") == 0,
        "setenv adds, and replaces only when told");
  Check(unsetenv("NEW") == 0 && getenv("NEW") == nullptr, "unsetenv");
  int count = 0;
  bool greeting = false;
  for (char** e = environ; *e != nullptr; e++, count++) greeting |= strcmp(*e, "GREETING=hello") == 0;
  Check(greeting && count >= 5, "environ lists them");
  for (char** e = environ; *e != nullptr; e++) printf("env: %s\n", *e);
  return failures;
}

volatile int handled_signal;
void OnSignal(int sig) { handled_signal = sig; }
void OnAbort(int) { puts("SIGABRT handler ran"); }

int Process() {
  struct utsname u;
  Check(uname(&u) == 0 && strcmp(u.sysname, "Skiff") == 0 && strcmp(u.machine, "x86_64") == 0,
        "uname");
  char host[256];
  Check(gethostname(host, sizeof(host)) == 0 && strcmp(host, u.nodename) == 0, "gethostname");
  printf("hostname: %s\n", host);
  Check(getpid() == 1 && getuid() == 0, "getpid and getuid");
  Check(sysconf(_SC_PAGESIZE) == 4096 && sysconf(_SC_NPROCESSORS_ONLN) == 1 &&
            sysconf(_SC_CLK_TCK) == CLOCKS_PER_SEC && sysconf(_SC_OPEN_MAX) == 1024,
        "sysconf: page size, processors, clock ticks, descriptors");
  Check(sysconf(-1) == -1 && errno == EINVAL, "an unknown sysconf name is EINVAL");

  clock_t c0 = clock();
  skiff::SleepFor(300'000'000);
  clock_t c1 = clock();
  // Spins until clock() has counted 300 ms of CPU time: the vCPU may share the CPU with other
  // domains, so that takes 300 ms of real time or more, never less.
  uint64_t start = skiff::Now();
  while (clock() - c1 < CLOCKS_PER_SEC * 3 / 10 && skiff::Now() - start < 20'000'000'000) {
  }
  uint64_t spun = skiff::Now() - start;
  clock_t c2 = clock();
  printf("clock: %ld while sleeping 300 ms, %ld while spinning %lu ms\n", (long)(c1 - c0),
         (long)(c2 - c1), (unsigned long)(spun / 1000000));
  Check(c1 - c0 < CLOCKS_PER_SEC / 10, "clock() does not count a sleep");
  Check(c2 - c1 >= CLOCKS_PER_SEC * 3 / 10 && spun >= 290'000'000,
        "clock() counts CPU time, no faster than real time");
  struct tms t;
  Check(times(&t) != (clock_t)-1 && t.tms_utime >= c2 - c0 - 10, "times() gives the same CPU time");
  struct rusage usage;
  Check(getrusage(RUSAGE_SELF, &usage) == 0 && usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec >= 200000,
        "getrusage gives it too");

  errno = 0;
  Check(fork() == -1 && errno == ENOSYS, "fork fails with ENOSYS");
  char* argv[] = {const_cast<char*>("sh"), nullptr};
  Check(execv("/bin/sh", argv) == -1 && errno == ENOSYS, "execv fails with ENOSYS");
  Check(popen("ls", "r") == nullptr && errno == ENOSYS, "popen fails with ENOSYS");
  Check(system(nullptr) == 0, "system(NULL) says there is no shell");
  Check(system("ls") == -1, "system fails");

  Check(signal(SIGUSR1, OnSignal) == SIG_DFL && raise(SIGUSR1) == 0 && handled_signal == SIGUSR1,
        "raise runs the handler signal() set");
  signal(SIGUSR2, SIG_IGN);
  Check(raise(SIGUSR2) == 0, "an ignored signal is ignored");
  handled_signal = 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  raise(SIGUSR1);
  bool held = handled_signal == 0;
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  Check(held && handled_signal == SIGUSR1, "a blocked signal waits until it is unblocked");
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESETHAND;
  struct sigaction old;
  Check(sigaction(SIGHUP, &action, &old) == 0 && old.sa_handler == SIG_DFL, "sigaction");
  handled_signal = 0;
  raise(SIGHUP);
  sigaction(SIGHUP, nullptr, &old);
  Check(handled_signal == SIGHUP && old.sa_handler == SIG_DFL, "SA_RESETHAND");
  Check(Fails(sigaction(SIGKILL, &action, nullptr), EINVAL), "SIGKILL cannot be caught");
  Check(kill(1, 0) == 0 && Fails(kill(42, SIGTERM), ESRCH), "kill of another process is ESRCH");
  return failures;
}

void SayBye() { puts("atexit handler ran"); }

// Reads stdin line by line until end of file, as a filter does.
int Stdin() {
  printf("reading stdin\n");
  fflush(stdout);
  char line[256];
  int lines = 0;
  while (fgets(line, sizeof(line), stdin) != nullptr) {
    line[strcspn(line, "\n")] = '\0';
    printf("got: [%s]\n", line);
    lines++;
  }
  Check(feof(stdin), "stdin ends with end of file");
  printf("%d lines\n", lines);
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Fail("no case given");
  std::string which = argv[1];
  if (which == "files") return Files();
  if (which == "folders") return Folders();
  if (which == "errors") return Errors();
  if (which == "seed") return Seed();
  if (which == "full") return Full();
  if (which == "ramdisk") return Ramdisk();
  if (which == "concurrent") return Concurrent();
  if (which == "env") return Environment();
  if (which == "pipe") return Pipes();
  if (which == "poll") return Polling();
  if (which == "alarm") return Alarm();
  if (which == "process") return Process();
  if (which == "stdin") return Stdin();
  if (which == "exit") {
    atexit(SayBye);
    printf("buffered, no newline");
    exit(3);
  }
  if (which == "abort") {
    signal(SIGABRT, OnAbort);
    abort();
  }
  if (which == "sigterm") {
    raise(SIGTERM);
    return Fail("still running after SIGTERM");
  }
  return Fail("unknown case");
}
