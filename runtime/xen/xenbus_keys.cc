// Reading a backend's keys and publishing a frontend's, for drivers. [xen/io/xenbus.h]
// Every value read is hostile input: it is checked in full, and an error quotes it (escaped,
// and cut short when long).
#include <errno.h>
#include <stdio.h>

#include "runtime/xen/xenbus.h"

namespace skiff::xen {
namespace {

// |text| fit for an error message: printable ASCII as is, other bytes as \xNN, at most 64
// bytes of it.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMaxShown; i++) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escaped[5];
      snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A relative key under a device's node: components that are neither empty, "." nor "..".
bool IsRelativeKey(std::string_view key) {
  if (key.empty()) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<uint64_t> ReadBackendUint(XenstoreClient& store, const XenbusDevice& device,
                                 std::string_view key, uint64_t max) {
  std::string path = device.backend + "/" + std::string(key);
  Result<std::string> text = store.Read(path);
  if (!text) {
    if (text.error().code == ENOENT) {
      return MakeError(ENOENT, "xenbus: %s: the backend has no %s", path.c_str(),
                       Quote(key).c_str());
    }
    return text.error();
  }
  uint64_t value;
  if (!ParseDecimal(*text, max, &value)) {
    return MakeError(EPROTO, "xenbus: %s is '%s', not a decimal number up to %llu",
                     path.c_str(), Quote(*text).c_str(), static_cast<unsigned long long>(max));
  }
  return value;
}

Result<uint64_t> ReadBackendUint(XenstoreClient& store, const XenbusDevice& device,
                                 std::string_view key, uint64_t max, uint64_t fallback) {
  Result<uint64_t> value = ReadBackendUint(store, device, key, max);
  if (!value && value.error().code == ENOENT) return fallback;
  return value;
}

Result<bool> ReadBackendFeature(XenstoreClient& store, const XenbusDevice& device,
                                std::string_view key) {
  // As Linux's xenbus_read_unsigned(..., 0) reads it: any number but 0 is true.
  return TRY(ReadBackendUint(store, device, key, UINT32_MAX, 0)) != 0;
}

std::optional<MacAddress> ParseMac(std::string_view text) {
  constexpr size_t kLength = 17;   // "aa:bb:cc:dd:ee:ff"
  if (text.size() != kLength) return std::nullopt;
  MacAddress mac;
  for (size_t i = 0; i < mac.size(); i++) {
    int high = HexDigit(text[3 * i]);
    int low = HexDigit(text[3 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    if (i + 1 < mac.size() && text[3 * i + 2] != ':') return std::nullopt;
    mac[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return mac;
}

Result<MacAddress> ReadMac(XenstoreClient& store, std::string_view path) {
  Result<std::string> text = store.Read(path);
  if (!text) {
    if (text.error().code == ENOENT) {
      return MakeError(ENOENT, "xenbus: %.*s: no MAC address", static_cast<int>(path.size()),
                       path.data());
    }
    return text.error();
  }
  std::optional<MacAddress> mac = ParseMac(*text);
  if (!mac) {
    return MakeError(EPROTO, "xenbus: %.*s is '%s', not a MAC address (aa:bb:cc:dd:ee:ff)",
                     static_cast<int>(path.size()), path.data(), Quote(*text).c_str());
  }
  return *mac;
}

Result<void> WriteFrontendKeys(XenstoreClient& store, const XenbusDevice& device,
                               std::span<const std::pair<std::string, std::string>> keys) {
  for (const auto& [key, value] : keys) {
    if (!IsRelativeKey(key)) {
      return MakeError(EINVAL, "xenbus: %s: '%s' is not a key relative to the device",
                       device.node.c_str(), Quote(key).c_str());
    }
  }
  Result<void> written = store.Transaction([&](XsTx tx) -> Result<void> {
    for (const auto& [key, value] : keys) TRY(store.Write(device.node + "/" + key, value, tx));
    return {};
  });
  if (!written) {
    return MakeError(written.error().code, "xenbus: %s: publishing its keys failed: %s",
                     device.node.c_str(), written.error().message.c_str());
  }
  return {};
}

}  // namespace skiff::xen
