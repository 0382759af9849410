// Directories for newlib's <dirent.h>, which has none for this target: Skiff's in-memory
// filesystem reads them (runtime/libc/posix.cc). The layout and DT_ values are Linux's.
#ifndef SKIFF_SYS_DIRENT_H_
#define SKIFF_SYS_DIRENT_H_

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MAXNAMLEN 255

#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

struct dirent {
  ino_t d_ino;
  off_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[MAXNAMLEN + 1];
};

typedef struct __skiff_dir DIR;

DIR* opendir(const char* path);
DIR* fdopendir(int fd);
struct dirent* readdir(DIR* dir);
int readdir_r(DIR* dir, struct dirent* entry, struct dirent** result);
int closedir(DIR* dir);
void rewinddir(DIR* dir);
long telldir(DIR* dir);
void seekdir(DIR* dir, long position);
int dirfd(DIR* dir);
int scandir(const char* path, struct dirent*** list, int (*filter)(const struct dirent*),
            int (*compare)(const struct dirent**, const struct dirent**));
int alphasort(const struct dirent** a, const struct dirent** b);

#ifdef __cplusplus
}
#endif

#endif  // SKIFF_SYS_DIRENT_H_
