/* lwIP's port header for Skiff guests: newlib on x86-64, little-endian. */
#ifndef SKIFF_LWIP_ARCH_CC_H
#define SKIFF_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>   /* struct timeval: LWIP_TIMEVAL_PRIVATE is 0 */

#ifdef __cplusplus
extern "C" {
#endif
/* A random 32-bit number for TCP's initial sequence numbers and ports, DHCP's xid and DNS's
 * ids (sys_arch.cc). */
unsigned int skiff_lwip_rand(void);
#ifdef __cplusplus
}
#endif

#define LWIP_RAND()             ((u32_t)skiff_lwip_rand())
#define LWIP_PLATFORM_DIAG(x)   do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) \
  do { printf("lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); abort(); } while (0)

#endif /* SKIFF_LWIP_ARCH_CC_H */
