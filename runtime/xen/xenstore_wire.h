// The xenstore wire protocol as pure functions: requests to bytes, bytes to messages, and the
// payloads of replies and watch events parsed and checked. [xen/io/xs_wire.h,
// docs/misc/xenstore.txt] Everything that comes from xenstored is hostile input: each parser
// checks every byte it looks at and returns an Error rather than trusting a length or a NUL.
#ifndef SKIFF_RUNTIME_XEN_XENSTORE_WIRE_H_
#define SKIFF_RUNTIME_XEN_XENSTORE_WIRE_H_

#include <errno.h>   // before xs_wire.h, which defines xsd_errors only if EINVAL is defined
#include <stddef.h>
#include <stdint.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/xen/xen.h"
#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::xen {


// A transaction id; 0 is "no transaction".
struct XsTx {
  uint32_t value = 0;
};

// One message off the wire. |payload| holds header.len bytes, except that a payload over
// XENSTORE_PAYLOAD_MAX is skipped and left empty (CheckHeader rejects the message).
struct XsMessage {
  xsd_sockmsg header = {};
  std::string payload;
};

struct XsWatchEvent {
  std::string path;
  std::string token;
};

// A node's permission for one domain. [docs/misc/xenstore.txt: PERMISSIONS]
struct XsPermission {
  enum class Access : char { kNone = 'n', kRead = 'r', kWrite = 'w', kBoth = 'b' };
  Access access = Access::kNone;
  DomId domid;
  bool operator==(const XsPermission&) const = default;
};

// "XS_READ" for a known type, "an unknown type" otherwise.
const char* XsTypeName(uint32_t type);

// Whether xenstored may send or accept |type| (XS_TYPE_COUNT and the removed XS_RESTRICT not).
bool XsTypeKnown(uint32_t type);

// The header and payload of a request: each of |strings| NUL-terminated, then |raw| as is (a
// written value). Fails with EINVAL if a string holds a NUL, E2BIG if the payload is over
// XENSTORE_PAYLOAD_MAX.
Result<std::string> EncodeRequest(uint32_t type, uint32_t req_id, XsTx tx,
                                  std::initializer_list<std::string_view> strings,
                                  std::string_view raw = {});

// Reassembles messages from the bytes of the reply ring, in whatever pieces they come.
class XsDecoder {
 public:
  // Takes all of |bytes|; appends each message they complete to |out|.
  void Feed(std::string_view bytes, std::vector<XsMessage>* out);
  // True between messages: no partial header or payload is held.
  bool idle() const { return header_size_ == 0; }

 private:
  XsMessage message_;
  size_t header_size_ = 0;   // header bytes gathered so far
  uint32_t skip_ = 0;        // payload bytes still to drop, for one over the limit
};

// Rejects a message whose type is unknown or whose payload is over the limit. |what| names the
// request it answers ("read of 'a/b'"), for the message.
Result<void> CheckHeader(const xsd_sockmsg& header, std::string_view what);

// An XS_ERROR payload ("ENOENT\0") to its errno, by xs_wire.h's xsd_errors table.
Result<int> ParseError(std::string_view payload);

// A xenstore number: decimal, at most |max|, no sign, no leading zeros but "0" itself.
bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* value);
inline bool ParseDecimal(std::string_view text, uint32_t max, uint32_t* value) {
  uint64_t wide;
  if (!ParseDecimal(text, uint64_t{max}, &wide)) return false;
  *value = static_cast<uint32_t>(wide);
  return true;
}

// The "OK\0" that acknowledges a write, mkdir, rm, set_perms, watch, unwatch or end.
Result<void> ParseAck(std::string_view payload, std::string_view what);

// An XS_TRANSACTION_START reply: a nonzero decimal id, NUL-terminated.
Result<XsTx> ParseTransactionId(std::string_view payload);

// An XS_WATCH_EVENT payload: exactly two NUL-terminated strings, the path and the token.
Result<XsWatchEvent> ParseWatchEvent(std::string_view payload);

// An XS_DIRECTORY payload: NUL-terminated child names, none empty or holding a '/'.
Result<std::vector<std::string>> ParseDirectory(std::string_view payload, std::string_view what);

// An XS_GET_PERMS payload: one or more NUL-terminated "<n|r|w|b><domid>" strings.
Result<std::vector<XsPermission>> ParsePermissions(std::string_view payload,
                                                   std::string_view what);

// One permission as XS_SET_PERMS takes it: "r5".
std::string FormatPermission(const XsPermission& permission);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENSTORE_WIRE_H_
