// libFuzzer target: arbitrary reply-ring bytes through the decoder, in pieces, and every
// message through the checks and parsers the client applies. Build and run: scripts/lib/fuzz xenstore.
#include <stddef.h>
#include <stdint.h>

#include <string_view>
#include <vector>

#include "runtime/xen/xenstore_wire.h"

using namespace skiff::xen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the piece size, as the ring hands bytes over in runs.
  size_t piece = data[0] % 64 + 1;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  XsDecoder decoder;
  std::vector<XsMessage> messages;
  for (size_t i = 0; i < bytes.size(); i += piece) decoder.Feed(bytes.substr(i, piece), &messages);
  for (const XsMessage& message : messages) {
    if (message.header.len <= XENSTORE_PAYLOAD_MAX && message.payload.size() != message.header.len) {
      __builtin_trap();   // the decoder lost or invented bytes
    }
    (void)CheckHeader(message.header, "fuzz");
    (void)ParseError(message.payload);
    (void)ParseAck(message.payload, "fuzz");
    (void)ParseTransactionId(message.payload);
    (void)ParseWatchEvent(message.payload);
    (void)ParseDirectory(message.payload, "fuzz");
    (void)ParsePermissions(message.payload, "fuzz");
  }
  // The whole input as one payload too, without the framing in the way.
  (void)ParseWatchEvent(bytes);
  (void)ParseDirectory(bytes, "fuzz");
  (void)ParsePermissions(bytes, "fuzz");
  (void)ParseTransactionId(bytes);
  (void)ParseError(bytes);
  return 0;
}
