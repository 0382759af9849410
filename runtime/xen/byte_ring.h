// The byte rings of the PV console and xenstore [xen/io/console.h, xen/io/xs_wire.h]: |size|
// bytes (a power of two) with free-running 32-bit indices. These copy bytes in and out with
// the wrap; the callers own the indices, their barriers and the notifications. Portable.
#ifndef SKIFF_RUNTIME_XEN_BYTE_RING_H_
#define SKIFF_RUNTIME_XEN_BYTE_RING_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <string_view>

namespace skiff::xen {

// Copies as much of |bytes| as there is room for into |ring| at producer index |prod|, the
// consumer being at |cons|; returns how many. No room (0) when the consumer is not at most
// |size| behind the producer.
inline size_t ByteRingPut(char* ring, uint32_t size, uint32_t prod, uint32_t cons,
                          std::string_view bytes) {
  uint32_t used = prod - cons;
  if (used >= size) return 0;
  size_t n = std::min<size_t>(size - used, bytes.size());
  size_t offset = prod & (size - 1);
  size_t first = std::min<size_t>(n, size - offset);
  memcpy(ring + offset, bytes.data(), first);
  memcpy(ring, bytes.data() + first, n - first);
  return n;
}

// Copies the bytes waiting in |ring| between consumer |cons| and producer |prod|, at most
// |max| and at most |size|, into |out|; returns how many.
inline size_t ByteRingGet(const char* ring, uint32_t size, uint32_t cons, uint32_t prod,
                          char* out, size_t max) {
  size_t n = std::min<size_t>({prod - cons, size, max});
  size_t offset = cons & (size - 1);
  size_t first = std::min<size_t>(n, size - offset);
  memcpy(out, ring + offset, first);
  memcpy(out + first, ring, n - first);
  return n;
}

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_BYTE_RING_H_
