#include "runtime/libc/seed.h"

#include <string.h>

#include <string_view>

namespace skiff::posix {
namespace {

constexpr size_t kBlock = 512;

// The fields of a tar header that seeding uses [POSIX.1-2017, pax: ustar Interchange Format].
struct Header {
  char name[100];
  char mode[8];
  char uid[8];
  char gid[8];
  char size[12];
  char mtime[12];
  char checksum[8];
  char type;
  char linkname[100];
  char magic[6];
  char version[2];
  char uname[32];
  char gname[32];
  char devmajor[8];
  char devminor[8];
  char prefix[155];
  char pad[12];
};
static_assert(sizeof(Header) == kBlock);

// An octal field: digits, maybe after spaces, up to a space or NUL.
bool ParseOctal(const char* field, size_t length, uint64_t* out) {
  size_t i = 0;
  while (i < length && field[i] == ' ') i++;
  uint64_t value = 0;
  size_t digits = 0;
  for (; i < length && field[i] >= '0' && field[i] <= '7'; i++, digits++) {
    if (value >> 60) return false;
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  if (digits == 0 || (i < length && field[i] != ' ' && field[i] != '\0')) return false;
  *out = value;
  return true;
}

bool ChecksumMatches(const Header& header) {
  uint64_t stored;
  if (!ParseOctal(header.checksum, sizeof(header.checksum), &stored)) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&header);
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; i++) {
    bool in_checksum = i >= offsetof(Header, checksum) && i < offsetof(Header, type);
    sum += in_checksum ? ' ' : bytes[i];
  }
  return sum == stored;
}

bool IsZeroBlock(const char* block) {
  for (size_t i = 0; i < kBlock; i++) {
    if (block[i] != 0) return false;
  }
  return true;
}

std::string_view Field(const char* field, size_t length) {
  return std::string_view(field, strnlen(field, length));
}

// The "path" record of a pax extended header: "LEN path=VALUE\n" records.
bool PaxPath(std::string_view records, std::string_view* path) {
  while (!records.empty()) {
    size_t space = records.find(' ');
    uint64_t length = 0;
    if (space == std::string_view::npos || space == 0) return false;
    for (size_t i = 0; i < space; i++) {
      if (records[i] < '0' || records[i] > '9') return false;
      length = length * 10 + static_cast<uint64_t>(records[i] - '0');
      if (length > records.size()) return false;
    }
    if (length <= space + 1 || records[length - 1] != '\n') return false;
    std::string_view record = records.substr(space + 1, length - space - 2);
    if (record.substr(0, 5) == "path=") *path = record.substr(5);
    records.remove_prefix(length);
  }
  return true;
}

}  // namespace

Result<SeedCount> SeedFromTar(Filesystem& fs, const void* archive, size_t size,
                              const char* origin) {
  const char* base = static_cast<const char*>(archive);
  SeedCount count;
  std::string_view long_name;   // from a pax or GNU header, for the next member
  size_t offset = 0;
  auto fail = [&](const char* what, std::string_view name) {
    return MakeError(EINVAL, "%s: %s at byte %zu%s%.*s", origin, what, offset,
                     name.empty() ? "" : ", member ", static_cast<int>(name.size()), name.data());
  };
  while (true) {
    if (offset + kBlock > size) {
      if (offset == size && offset > 0) return count;   // no end blocks: tolerated
      return fail("the archive ends inside a header", {});
    }
    const char* block = base + offset;
    if (IsZeroBlock(block)) return count;
    Header header;
    memcpy(&header, block, kBlock);
    if (!ChecksumMatches(header)) return fail("a header with a bad checksum", {});
    uint64_t member_size;
    if (!ParseOctal(header.size, sizeof(header.size), &member_size)) {
      return fail("a header with a bad size", {});
    }
    size_t data = offset + kBlock;
    if (member_size > size - data) return fail("a member that runs past the end", {});
    size_t next = data + ((member_size + kBlock - 1) & ~(kBlock - 1));
    if (next > size) next = size;

    // The member's name: a long name given before, else prefix/name.
    char path[kPathMax + 2];
    std::string_view name = long_name;
    std::string_view prefix;
    if (name.empty()) {
      name = Field(header.name, sizeof(header.name));
      if (memcmp(header.magic, "ustar", 5) == 0) prefix = Field(header.prefix, sizeof(header.prefix));
    }
    long_name = {};
    if (1 + prefix.size() + 1 + name.size() > kPathMax) return fail("a name too long", name);
    size_t at = 0;
    path[at++] = '/';
    if (!prefix.empty()) {
      memcpy(path + at, prefix.data(), prefix.size());
      at += prefix.size();
      path[at++] = '/';
    }
    memcpy(path + at, name.data(), name.size());
    at += name.size();
    while (at > 1 && path[at - 1] == '/') at--;   // folders end in '/'
    path[at] = '\0';
    uint64_t mode;
    if (!ParseOctal(header.mode, sizeof(header.mode), &mode)) mode = 0644;

    switch (header.type) {
      case 'x':   // pax extended header: its path is the next member's name
        if (!PaxPath(std::string_view(base + data, member_size), &long_name)) {
          return fail("a bad pax extended header", {});
        }
        break;
      case 'L':   // GNU long name
        long_name = Field(base + data, member_size);
        break;
      case 'g':   // pax global header: nothing seeding uses
        break;
      case '0':
      case '\0':
      case '7': {
        std::string_view full(path, at);
        size_t slash = full.rfind('/');
        if (slash > 0) {
          std::string folder(full.substr(0, slash));
          if (int rc = fs.MkdirAll(folder.c_str(), 0755); rc < 0) {
            return fail(strerror(-rc), full);
          }
        }
        if (int rc = fs.AddFile(path, base + data, member_size, static_cast<mode_t>(mode));
            rc < 0) {
          return fail(strerror(-rc), full);
        }
        count.files++;
        count.bytes += member_size;
        break;
      }
      case '5':
        if (at > 1) {
          if (int rc = fs.MkdirAll(path, 0755); rc < 0) return fail(strerror(-rc), path);
          fs.Chmod(path, static_cast<mode_t>(mode));
        }
        count.folders++;
        break;
      default:
        return fail("a link, device or other member the filesystem cannot hold",
                    std::string_view(path, at));
    }
    offset = next;
  }
}

}  // namespace skiff::posix
