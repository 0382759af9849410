#include "runtime/xen/xenstore_wire.h"

#include <string.h>

#include <algorithm>

namespace skiff::xen {
namespace {

// For "%.*s" with a string_view; payloads are at most XENSTORE_PAYLOAD_MAX bytes.
int Len(std::string_view s) { return static_cast<int>(std::min<size_t>(s.size(), 200)); }

// Splits |payload| into NUL-terminated strings. Fails if it does not end in a NUL.
bool SplitStrings(std::string_view payload, std::vector<std::string_view>* out) {
  if (!payload.empty() && payload.back() != '\0') return false;
  while (!payload.empty()) {
    size_t end = payload.find('\0');
    out->push_back(payload.substr(0, end));
    payload.remove_prefix(end + 1);
  }
  return true;
}

}  // namespace

bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* value) {
  if (text.empty() || (text[0] == '0' && text.size() > 1)) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;   // would overflow
    n = n * 10 + digit;
  }
  if (n > max) return false;
  *value = n;
  return true;
}

const char* XsTypeName(uint32_t type) {
  static constexpr const char* kNames[XS_TYPE_COUNT] = {
      "XS_CONTROL", "XS_DIRECTORY", "XS_READ", "XS_GET_PERMS", "XS_WATCH", "XS_UNWATCH",
      "XS_TRANSACTION_START", "XS_TRANSACTION_END", "XS_INTRODUCE", "XS_RELEASE",
      "XS_GET_DOMAIN_PATH", "XS_WRITE", "XS_MKDIR", "XS_RM", "XS_SET_PERMS", "XS_WATCH_EVENT",
      "XS_ERROR", "XS_IS_DOMAIN_INTRODUCED", "XS_RESUME", "XS_SET_TARGET", nullptr,
      "XS_RESET_WATCHES", "XS_DIRECTORY_PART"};
  return XsTypeKnown(type) ? kNames[type] : "an unknown type";
}

bool XsTypeKnown(uint32_t type) { return type < XS_TYPE_COUNT && type != XS_SET_TARGET + 1; }

Result<std::string> EncodeRequest(uint32_t type, uint32_t req_id, XsTx tx,
                                  std::initializer_list<std::string_view> strings,
                                  std::string_view raw) {
  size_t len = raw.size();
  for (std::string_view s : strings) {
    if (s.find('\0') != std::string_view::npos) {
      return MakeError(EINVAL, "xenstore: %s request's argument '%.*s' holds a NUL",
                       XsTypeName(type), Len(s), s.data());
    }
    len += s.size() + 1;
  }
  if (len > XENSTORE_PAYLOAD_MAX) {
    return MakeError(E2BIG, "xenstore: %s request is %zu bytes, over the %d-byte limit",
                     XsTypeName(type), len, XENSTORE_PAYLOAD_MAX);
  }
  xsd_sockmsg header = {type, req_id, tx.value, static_cast<uint32_t>(len)};
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
  bytes.reserve(sizeof(header) + len);
  for (std::string_view s : strings) {
    bytes.append(s);
    bytes.push_back('\0');
  }
  bytes.append(raw);
  return bytes;
}

void XsDecoder::Feed(std::string_view bytes, std::vector<XsMessage>* out) {
  while (!bytes.empty()) {
    if (header_size_ < sizeof(xsd_sockmsg)) {
      size_t n = std::min(bytes.size(), sizeof(xsd_sockmsg) - header_size_);
      memcpy(reinterpret_cast<char*>(&message_.header) + header_size_, bytes.data(), n);
      header_size_ += n;
      bytes.remove_prefix(n);
      if (header_size_ < sizeof(xsd_sockmsg)) return;
      if (message_.header.len > XENSTORE_PAYLOAD_MAX) {
        skip_ = message_.header.len;
      } else {
        message_.payload.reserve(message_.header.len);
      }
    }
    if (skip_ > 0) {
      size_t n = std::min<size_t>(bytes.size(), skip_);
      skip_ -= static_cast<uint32_t>(n);
      bytes.remove_prefix(n);
    } else {
      size_t n = std::min(bytes.size(), message_.header.len - message_.payload.size());
      message_.payload.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
    bool complete = message_.header.len > XENSTORE_PAYLOAD_MAX
                        ? skip_ == 0
                        : message_.payload.size() == message_.header.len;
    if (complete) {
      out->push_back(std::move(message_));
      message_ = XsMessage{};
      header_size_ = 0;
    }
  }
}

Result<void> CheckHeader(const xsd_sockmsg& header, std::string_view what) {
  if (!XsTypeKnown(header.type)) {
    return MakeError(EPROTO, "xenstore: reply to %.*s has unknown type %u", Len(what),
                     what.data(), header.type);
  }
  if (header.len > XENSTORE_PAYLOAD_MAX) {
    return MakeError(EPROTO, "xenstore: reply to %.*s is %u bytes, over the %d-byte limit",
                     Len(what), what.data(), header.len, XENSTORE_PAYLOAD_MAX);
  }
  return {};
}

Result<int> ParseError(std::string_view payload) {
  std::string_view name = payload;
  if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
  for (const struct xsd_errors& e : xsd_errors) {
    if (name == e.errstring) return e.errnum;
  }
  return MakeError(EPROTO, "xenstore: error reply names no known error: '%.*s'", Len(name),
                   name.data());
}

Result<void> ParseAck(std::string_view payload, std::string_view what) {
  if (payload != std::string_view("OK", 3)) {
    return MakeError(EPROTO, "xenstore: reply to %.*s is not \"OK\" (%zu bytes)", Len(what),
                     what.data(), payload.size());
  }
  return {};
}

Result<XsTx> ParseTransactionId(std::string_view payload) {
  std::vector<std::string_view> strings;
  uint32_t id;
  if (!SplitStrings(payload, &strings) || strings.size() != 1 ||
      !ParseDecimal(strings[0], UINT32_MAX, &id) || id == 0) {
    return MakeError(EPROTO, "xenstore: transaction start reply is not a transaction id");
  }
  return XsTx{id};
}

Result<XsWatchEvent> ParseWatchEvent(std::string_view payload) {
  std::vector<std::string_view> strings;
  if (!SplitStrings(payload, &strings) || strings.size() != 2) {
    return MakeError(EPROTO,
                     "xenstore: watch event of %zu bytes is not two NUL-terminated strings "
                     "(path, token)",
                     payload.size());
  }
  return XsWatchEvent{std::string(strings[0]), std::string(strings[1])};
}

Result<std::vector<std::string>> ParseDirectory(std::string_view payload, std::string_view what) {
  std::vector<std::string_view> strings;
  if (!SplitStrings(payload, &strings)) {
    return MakeError(EPROTO, "xenstore: reply to %.*s does not end in a NUL", Len(what),
                     what.data());
  }
  std::vector<std::string> names;
  for (std::string_view name : strings) {
    if (name.empty() || name.find('/') != std::string_view::npos) {
      return MakeError(EPROTO, "xenstore: reply to %.*s names a bad child '%.*s'", Len(what),
                       what.data(), Len(name), name.data());
    }
    names.emplace_back(name);
  }
  return names;
}

Result<std::vector<XsPermission>> ParsePermissions(std::string_view payload,
                                                   std::string_view what) {
  std::vector<std::string_view> strings;
  if (!SplitStrings(payload, &strings) || strings.empty()) {
    return MakeError(EPROTO, "xenstore: reply to %.*s is not a list of permissions", Len(what),
                     what.data());
  }
  std::vector<XsPermission> permissions;
  for (std::string_view text : strings) {
    uint32_t domid;
    if (text.empty() || !strchr("nrwb", text[0]) ||
        !ParseDecimal(text.substr(1), UINT16_MAX, &domid)) {
      return MakeError(EPROTO, "xenstore: reply to %.*s has a bad permission '%.*s'", Len(what),
                       what.data(), Len(text), text.data());
    }
    permissions.push_back(
        {static_cast<XsPermission::Access>(text[0]), DomId{static_cast<uint16_t>(domid)}});
  }
  return permissions;
}

std::string FormatPermission(const XsPermission& permission) {
  return static_cast<char>(permission.access) + std::to_string(permission.domid.value);
}

}  // namespace skiff::xen
