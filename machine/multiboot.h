/* machine/multiboot.h: the Multiboot (version 1) boot loader.
 *
 * phantom-sim loads a kernel the way QEMU's -kernel does: it finds the
 * Multiboot header in the first 8 KiB, loads an ELF32 image by its program
 * headers, or a flat image by the header's address fields (the "a.out
 * kludge", flag bit 16), writes the Multiboot information block into low
 * memory and describes the CPU state the kernel must start in.  An ELF64
 * kernel with a Multiboot header is also accepted and entered directly in
 * long mode, with the same information block (see docs/machine.md).
 *
 * Low memory used by the loader (the kernel may reuse it once started):
 *   0x1000  GDT: 0x08 code32, 0x10 data, 0x18 code64
 *   0x2000  long-mode page tables: identity map of the first 4 GiB, 2 MiB pages
 *   0x8000  Multiboot information, memory map, boot loader name
 *   0x9000  kernel command line (at most 4095 bytes)
 */
#ifndef MACHINE_MULTIBOOT_H
#define MACHINE_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct layout;

#define MULTIBOOT_HEADER_MAGIC  0x1BADB002u
#define MULTIBOOT_BOOT_MAGIC    0x2BADB002u

#define MB_LOADER_GDT           0x1000u
#define MB_LOADER_PML4          0x2000u
#define MB_LOADER_INFO          0x8000u
#define MB_LOADER_CMDLINE       0x9000u
#define MB_LOADER_END           0xA000u /* kernels may not load below this */

#define MB_SEL_CODE32           0x08
#define MB_SEL_DATA             0x10
#define MB_SEL_CODE64           0x18

enum boot_mode { BOOT_PROTECTED32, BOOT_LONG64 };

/* The CPU state the kernel starts in. */
struct boot_entry {
	enum boot_mode mode;
	uint64_t entry;                 /* physical entry point */
	uint32_t eax, ebx;              /* MULTIBOOT_BOOT_MAGIC, info address */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds;                /* selectors for CS and the data segments */
	uint64_t cr3;                   /* BOOT_LONG64: the loader's page tables */
	uint64_t load_lo, load_hi;      /* physical span the kernel occupies */
};

/* Load the kernel at path; cmdline may be NULL.  On bad input returns -1
 * with one line in err naming the file and what is wrong; guest memory is
 * then untouched. */
int multiboot_load(struct bus *bus, const struct layout *l, const char *path,
		   const char *cmdline, struct boot_entry *out, char *err, size_t errlen);
/* The same from a buffer (path only names it in messages). */
int multiboot_load_image(struct bus *bus, const struct layout *l, const char *path,
			 const uint8_t *image, size_t size, const char *cmdline,
			 struct boot_entry *out, char *err, size_t errlen);

#endif
