/* machine/multiboot.c: loading a Multiboot v1 kernel into guest memory.
 *
 * Loading is planned first and written second: every segment is checked
 * against the memory layout (it must lie in RAM, above the loader's own
 * area) before a byte of guest memory changes, so a bad image leaves the
 * machine as it was.  Field layouts follow the Multiboot Specification
 * 0.6.96, sections 3.1 (header) and 3.3 (information block).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "machine/bus.h"
#include "machine/elf.h"
#include "machine/layout.h"
#include "machine/multiboot.h"

#define MB_SEARCH_LEN   8192
#define MB_MAX_PIECES   16
#define MB_MAX_KERNEL   (256u << 20)

/* Header flags (spec 3.1.2).  Bits 0-15 are requirements: a loader that
 * does not understand one must refuse the kernel. */
#define MBF_PAGE_ALIGN  (1u << 0)
#define MBF_MEMORY_INFO (1u << 1)
#define MBF_VIDEO_MODE  (1u << 2)
#define MBF_ADDRESSES   (1u << 16)

/* Information flags (spec 3.3). */
#define MBI_MEMORY      (1u << 0)
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

#define MB_INFO_SIZE    120
#define MB_MMAP_ADDR    (MB_LOADER_INFO + 0x100)
#define MB_NAME_ADDR    (MB_LOADER_INFO + 0x400)
#define MB_CMDLINE_MAX  (MB_LOADER_END - MB_LOADER_CMDLINE - 1)

/* One planned copy: filesz bytes from src, then zeros up to memsz. */
struct piece {
	uint64_t pa;
	const uint8_t *src;
	uint64_t filesz, memsz;
};

struct plan {
	struct piece p[MB_MAX_PIECES];
	int n;
	uint64_t entry;
	enum boot_mode mode;
};

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool in_ram(const struct layout *l, uint64_t pa, uint64_t len)
{
	for (int i = 0; i < l->n; i++) {
		const struct mem_range *r = &l->ranges[i];
		if (r->type == MEM_RAM && pa >= r->base && len <= r->size &&
		    pa - r->base <= r->size - len)
			return true;
	}
	return false;
}

static int add_piece(struct plan *pl, const struct layout *l, const char *path, const char *what,
		     uint64_t pa, const uint8_t *src, uint64_t filesz, uint64_t memsz,
		     char *err, size_t errlen)
{
	if (memsz == 0)
		return 0;
	if (pl->n == MB_MAX_PIECES)
		return fail(err, errlen, path, "more than %d loadable segments", MB_MAX_PIECES);
	if (pa < MB_LOADER_END)
		return fail(err, errlen, path, "%s at %#llx overlaps the boot loader's area below %#x",
			    what, (unsigned long long)pa, MB_LOADER_END);
	if (pa + memsz < pa || !in_ram(l, pa, memsz))
		return fail(err, errlen, path, "%s [%#llx, +%#llx) is not inside guest RAM",
			    what, (unsigned long long)pa, (unsigned long long)memsz);
	for (int i = 0; i < pl->n; i++) {
		const struct piece *q = &pl->p[i];
		if (pa < q->pa + q->memsz && q->pa < pa + memsz)
			return fail(err, errlen, path, "%s overlaps another loaded segment", what);
	}
	pl->p[pl->n++] = (struct piece){pa, src, filesz, memsz};
	return 0;
}

/* The a.out kludge: one flat piece described by the header (spec 3.1.3). */
static int plan_addresses(struct plan *pl, const struct layout *l, const char *path,
			  const uint8_t *img, size_t size, size_t hoff, char *err, size_t errlen)
{
	const uint8_t *h = img + hoff;
	if (hoff + 32 > size)
		return fail(err, errlen, path, "Multiboot header truncated: address fields past the end");
	uint32_t header_addr = le32(h + 12), load_addr = le32(h + 16);
	uint32_t load_end = le32(h + 20), bss_end = le32(h + 24), entry = le32(h + 28);
	if (header_addr < load_addr || header_addr - load_addr > hoff)
		return fail(err, errlen, path, "Multiboot header_addr %#x / load_addr %#x do not match the "
			    "header's file offset %#zx", header_addr, load_addr, hoff);
	size_t off = hoff - (header_addr - load_addr);
	uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : size - off;
	if (load_end && load_end < load_addr)
		return fail(err, errlen, path, "Multiboot load_end_addr %#x below load_addr %#x", load_end, load_addr);
	if (filesz > size - off)
		return fail(err, errlen, path, "Multiboot load_end_addr %#x is past the end of the file", load_end);
	uint64_t memsz = filesz;
	if (bss_end) {
		if (bss_end < load_addr + filesz)
			return fail(err, errlen, path, "Multiboot bss_end_addr %#x below the loaded data", bss_end);
		memsz = (uint64_t)bss_end - load_addr;
	}
	if (entry < load_addr || entry >= load_addr + memsz)
		return fail(err, errlen, path, "Multiboot entry_addr %#x is outside the loaded image", entry);
	pl->entry = entry;
	pl->mode = BOOT_PROTECTED32;
	return add_piece(pl, l, path, "the image", load_addr, img + off, filesz, memsz, err, errlen);
}

static int plan_elf32(struct plan *pl, const struct layout *l, const char *path,
		      const uint8_t *img, size_t size, char *err, size_t errlen)
{
	if (size < 52)
		return fail(err, errlen, path, "truncated ELF32 header");
	if (le16(img + 16) != 2)
		return fail(err, errlen, path, "ELF32 type %u is not an executable (ET_EXEC)", le16(img + 16));
	if (le16(img + 18) != 3)
		return fail(err, errlen, path, "ELF32 machine %u is not i386 (3)", le16(img + 18));
	uint32_t entry = le32(img + 24), phoff = le32(img + 28);
	unsigned phentsize = le16(img + 42), phnum = le16(img + 44);
	if (phentsize != 32)
		return fail(err, errlen, path, "bad ELF32 e_phentsize %u (want 32)", phentsize);
	if (phnum == 0 || phoff > size || (uint64_t)phnum * 32 > size - phoff)
		return fail(err, errlen, path, "ELF32 program headers lie outside the file");
	bool entry_found = false;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + 32 * i;
		if (le32(ph) != 1)              /* PT_LOAD */
			continue;
		uint32_t off = le32(ph + 4), vaddr = le32(ph + 8), paddr = le32(ph + 12);
		uint32_t filesz = le32(ph + 16), memsz = le32(ph + 20);
		char what[48];
		snprintf(what, sizeof what, "ELF32 program header %u", i);
		if (filesz > memsz)
			return fail(err, errlen, path, "%s: p_filesz larger than p_memsz", what);
		if (off > size || filesz > size - off)
			return fail(err, errlen, path, "%s: data past the end of the file", what);
		/* Like GRUB, load at p_paddr and relocate the entry point if it
		 * was given as a virtual address inside this segment. */
		if (entry >= vaddr && entry - vaddr < memsz) {
			pl->entry = (uint64_t)paddr + (entry - vaddr);
			entry_found = true;
		}
		if (add_piece(pl, l, path, what, paddr, img + off, filesz, memsz, err, errlen))
			return -1;
	}
	if (!entry_found)
		return fail(err, errlen, path, "ELF32 entry point %#x is outside every loadable segment", entry);
	pl->mode = BOOT_PROTECTED32;
	return 0;
}

/* ELF64 kernels use the shared ELF64 parser; its buffer is a copy, since
 * elf_parse takes ownership. */
static int plan_elf64(struct plan *pl, const struct layout *l, const char *path,
		      const uint8_t *img, size_t size, struct elf_image *elf,
		      char *err, size_t errlen)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return fail(err, errlen, path, "out of memory");
	memcpy(copy, img, size);
	if (elf_parse(elf, path, copy, size, err, errlen))
		return -1;
	if (elf->interp)
		return fail(err, errlen, path, "a kernel cannot have PT_INTERP");
	bool entry_found = false;
	for (size_t i = 0; i < elf->nsegs; i++) {
		const struct elf_segment *s = &elf->segs[i];
		char what[48];
		snprintf(what, sizeof what, "ELF program header %u", s->index);
		if (elf->entry >= s->vaddr && elf->entry - s->vaddr < s->memsz) {
			pl->entry = s->paddr + (elf->entry - s->vaddr);
			entry_found = true;
		}
		if (add_piece(pl, l, path, what, s->paddr, elf->data + s->offset, s->filesz, s->memsz,
			      err, errlen))
			return -1;
	}
	if (!entry_found)
		return fail(err, errlen, path, "ELF entry point is outside every loadable segment");
	if (pl->entry >= (4ull << 30))
		return fail(err, errlen, path, "ELF64 entry point %#llx is above 4 GiB, outside the "
			    "loader's identity map", (unsigned long long)pl->entry);
	pl->mode = BOOT_LONG64;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int write_info(struct bus *bus, const struct layout *l, const char *cmdline)
{
	uint8_t info[MB_INFO_SIZE] = {0};
	uint8_t mmap[LAYOUT_MAX_RANGES * 24];
	uint64_t upper = l->dram_low > (1u << 20) ? (l->dram_low - (1u << 20)) / 1024 : 0;

	put32(info + 0, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
	put32(info + 4, 639);                           /* mem_lower, KiB */
	put32(info + 8, (uint32_t)(upper > UINT32_MAX ? UINT32_MAX : upper));
	put32(info + 16, MB_LOADER_CMDLINE);
	put32(info + 20, 0);                            /* no modules */
	for (int i = 0; i < l->n; i++) {
		uint8_t *e = mmap + 24 * i;
		put32(e, 20);                           /* size of the rest */
		put64(e + 4, l->ranges[i].base);
		put64(e + 12, l->ranges[i].size);
		put32(e + 20, l->ranges[i].type);
	}
	put32(info + 44, (uint32_t)(24 * l->n));
	put32(info + 48, MB_MMAP_ADDR);
	put32(info + 64, MB_NAME_ADDR);

	static const char name[] = "phantom-sim";
	return bus_dma_write(bus, MB_LOADER_INFO, info, sizeof info) ||
	       bus_dma_write(bus, MB_MMAP_ADDR, mmap, 24 * (size_t)l->n) ||
	       bus_dma_write(bus, MB_NAME_ADDR, name, sizeof name) ||
	       bus_dma_write(bus, MB_LOADER_CMDLINE, cmdline, strlen(cmdline) + 1) ? -1 : 0;
}

/* A flat GDT, and for long-mode entry an identity map of the first 4 GiB
 * in 2 MiB pages (PML4 -> one PDPT -> four page directories). */
static int write_cpu_tables(struct bus *bus, enum boot_mode mode)
{
	uint8_t gdt[32] = {0};
	put64(gdt + 8, 0x00CF9A000000FFFFull);          /* code32: base 0, 4 GiB, DPL 0 */
	put64(gdt + 16, 0x00CF92000000FFFFull);         /* data: base 0, 4 GiB, writable */
	put64(gdt + 24, 0x00AF9A000000FFFFull);         /* code64: L=1, D=0 */
	if (bus_dma_write(bus, MB_LOADER_GDT, gdt, sizeof gdt))
		return -1;
	if (mode != BOOT_LONG64)
		return 0;
	uint8_t page[4096];
	const uint64_t pdpt = MB_LOADER_PML4 + 0x1000, pd = MB_LOADER_PML4 + 0x2000;
	memset(page, 0, sizeof page);
	put64(page, pdpt | 3);                          /* present, writable */
	if (bus_dma_write(bus, MB_LOADER_PML4, page, sizeof page))
		return -1;
	memset(page, 0, sizeof page);
	for (int i = 0; i < 4; i++)
		put64(page + 8 * i, (pd + 0x1000 * (uint64_t)i) | 3);
	if (bus_dma_write(bus, pdpt, page, sizeof page))
		return -1;
	for (uint64_t d = 0; d < 4; d++) {
		for (uint64_t i = 0; i < 512; i++)
			put64(page + 8 * i, ((d * 512 + i) << 21) | 0x83);     /* P, RW, PS */
		if (bus_dma_write(bus, pd + 0x1000 * d, page, sizeof page))
			return -1;
	}
	return 0;
}

int multiboot_load_image(struct bus *bus, const struct layout *l, const char *path,
			 const uint8_t *img, size_t size, const char *cmdline,
			 struct boot_entry *out, char *err, size_t errlen)
{
	if (!cmdline)
		cmdline = "";
	if (strlen(cmdline) > MB_CMDLINE_MAX)
		return fail(err, errlen, path, "command line longer than %d bytes", MB_CMDLINE_MAX);

	/* The header is 32-bit aligned within the first 8 KiB (spec 3.1.1). */
	size_t hoff = SIZE_MAX;
	for (size_t off = 0; off + 12 <= size && off < MB_SEARCH_LEN; off += 4) {
		const uint8_t *h = img + off;
		if (le32(h) == MULTIBOOT_HEADER_MAGIC &&
		    (uint32_t)(le32(h) + le32(h + 4) + le32(h + 8)) == 0) {
			hoff = off;
			break;
		}
	}
	if (hoff == SIZE_MAX)
		return fail(err, errlen, path, "no Multiboot header (magic 0x1BADB002 with a valid "
			    "checksum) in the first 8 KiB");
	uint32_t flags = le32(img + hoff + 4);
	uint32_t unknown = flags & 0xFFFFu & ~(MBF_PAGE_ALIGN | MBF_MEMORY_INFO | MBF_VIDEO_MODE);
	if (unknown)
		return fail(err, errlen, path, "Multiboot header requires features this loader lacks "
			    "(flags %#x)", unknown);

	struct plan pl = {0};
	struct elf_image elf = {0};
	int rc;
	bool is_elf = size >= 5 && memcmp(img, "\177ELF", 4) == 0;
	if (flags & MBF_ADDRESSES)
		rc = plan_addresses(&pl, l, path, img, size, hoff, err, errlen);
	else if (is_elf && img[4] == 1)
		rc = plan_elf32(&pl, l, path, img, size, err, errlen);
	else if (is_elf && img[4] == 2)
		rc = plan_elf64(&pl, l, path, img, size, &elf, err, errlen);
	else
		rc = fail(err, errlen, path, "neither ELF nor a Multiboot header with address fields "
			  "(flag bit 16)");

	if (rc == 0) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (int i = 0; i < pl.n && rc == 0; i++) {
			const struct piece *p = &pl.p[i];
			if (bus_dma_write(bus, p->pa, p->src, p->filesz))
				rc = -1;
			for (uint64_t z = p->filesz; z < p->memsz && rc == 0; ) {
				static const uint8_t zero[4096];
				uint64_t n = p->memsz - z < sizeof zero ? p->memsz - z : sizeof zero;
				rc = bus_dma_write(bus, p->pa + z, zero, n);
				z += n;
			}
			lo = p->pa < lo ? p->pa : lo;
			hi = p->pa + p->memsz > hi ? p->pa + p->memsz : hi;
		}
		if (rc == 0)
			rc = write_info(bus, l, cmdline);
		if (rc == 0)
			rc = write_cpu_tables(bus, pl.mode);
		if (rc)
			fail(err, errlen, path, "guest RAM too small for the kernel and the loader's tables");
		*out = (struct boot_entry){
			.mode = pl.mode, .entry = pl.entry,
			.eax = MULTIBOOT_BOOT_MAGIC, .ebx = MB_LOADER_INFO,
			.gdt_base = MB_LOADER_GDT, .gdt_limit = 31,
			.cs = pl.mode == BOOT_LONG64 ? MB_SEL_CODE64 : MB_SEL_CODE32,
			.ds = MB_SEL_DATA,
			.cr3 = pl.mode == BOOT_LONG64 ? MB_LOADER_PML4 : 0,
			.load_lo = lo, .load_hi = hi,
		};
	}
	if (elf.data || elf.segs)
		elf_free(&elf);
	return rc;
}

int multiboot_load(struct bus *bus, const struct layout *l, const char *path,
		   const char *cmdline, struct boot_entry *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(err, errlen, path, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > MB_MAX_KERNEL) {
		fclose(f);
		return fail(err, errlen, path, "not a regular file of at most %u MiB", MB_MAX_KERNEL >> 20);
	}
	size_t size = (size_t)st.st_size;
	uint8_t *img = malloc(size ? size : 1);
	if (!img || fread(img, 1, size, f) != size) {
		fclose(f);
		free(img);
		return fail(err, errlen, path, "read error");
	}
	fclose(f);
	int rc = multiboot_load_image(bus, l, path, img, size, cmdline, out, err, errlen);
	free(img);
	return rc;
}
