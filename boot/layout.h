// Constants shared by boot/, linker/ and runtime/ (assembly, linker script and C++).
#ifndef SKIFF_BOOT_LAYOUT_H_
#define SKIFF_BOOT_LAYOUT_H_

#define SKIFF_LOAD_ADDRESS 0x100000    // the image is linked and loaded at 1 MiB, VA == PA
#define SKIFF_PAGE_SIZE 4096
#define SKIFF_BOOT_STACK_SIZE 0x10000  // the boot runs here, above one unmapped guard page
#define SKIFF_BOOT_MAP_GIB 4           // the early identity map: 4 GiB with 2 MiB pages

// Selectors of the boot GDT (boot/entry.S), also used by the runtime's IDT.
#define SKIFF_CODE64 0x08
#define SKIFF_DATA64 0x10

#endif  // SKIFF_BOOT_LAYOUT_H_
