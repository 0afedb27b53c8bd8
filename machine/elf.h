/* machine/elf.h: ELF64 parsing, independent of what the image is loaded into.
 *
 * elf_load_file() reads a whole file, checks every header field a loader
 * relies on, and describes the result as a list of loadable segments.  It
 * never maps anything: the Linux user-mode runner (machine/linux_user.c)
 * turns the segments into bus RAM regions at their virtual addresses, and
 * the kernel boot loader places them at their physical addresses.
 *
 *     struct elf_image img;
 *     char err[256];
 *     if (elf_load_file(&img, "prog", err, sizeof err)) {
 *             fprintf(stderr, "%s\n", err);  // "prog: ELF program header 3: ..."
 *             return 2;
 *     }
 *     for (size_t i = 0; i < img.nsegs; i++)
 *             copy img.data + img.segs[i].offset, filesz bytes, to vaddr ...
 *     elf_free(&img);
 *
 * Error messages are one line, start with the file name and say what is
 * wrong, so callers print them as they are.
 */
#ifndef MACHINE_ELF_H
#define MACHINE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ELF64 constants this file and its users need (from the System V ABI,
 * gABI 4.1, and the AMD64 psABI). */
enum {
	ELF_ET_EXEC = 2, ELF_ET_DYN = 3,
	ELF_EM_X86_64 = 62,
	ELF_PT_LOAD = 1, ELF_PT_DYNAMIC = 2, ELF_PT_INTERP = 3, ELF_PT_PHDR = 6,
	ELF_PT_TLS = 7, ELF_PT_GNU_STACK = 0x6474e551,
	ELF_PF_X = 1, ELF_PF_W = 2, ELF_PF_R = 4,
	ELF_EHDR_SIZE = 64, ELF_PHDR_SIZE = 56,
};

/* One PT_LOAD program header. */
struct elf_segment {
	unsigned index;                 /* program header number, for messages */
	uint64_t offset;                /* p_offset */
	uint64_t vaddr, paddr;          /* p_vaddr, p_paddr */
	uint64_t filesz, memsz;         /* filesz <= memsz, checked */
	uint64_t align;
	unsigned flags;                 /* ELF_PF_R | ELF_PF_W | ELF_PF_X */
};

struct elf_image {
	char *path;                     /* as given, for messages */
	uint8_t *data;                  /* the whole file */
	size_t size;

	unsigned type;                  /* ELF_ET_EXEC or ELF_ET_DYN */
	uint64_t entry;
	uint64_t phoff;                 /* e_phoff */
	unsigned phnum;                 /* e_phnum; e_phentsize is ELF_PHDR_SIZE */

	struct elf_segment *segs;       /* PT_LOAD headers, sorted by vaddr */
	size_t nsegs;
	uint64_t vaddr_lo, vaddr_hi;    /* span of the loads: [lo, hi) */

	char *interp;                   /* PT_INTERP contents, or NULL */
	bool has_phdr;                  /* PT_PHDR present */
	uint64_t phdr_vaddr;            /* its p_vaddr */
	bool exec_stack;                /* PT_GNU_STACK asks for PF_X */
};

/* Parse size bytes at data (taking ownership of the malloc'd buffer, even
 * on failure).  path is only used in messages.  Returns 0, or -1 with one
 * line in err. */
int elf_parse(struct elf_image *img, const char *path, uint8_t *data, size_t size,
	      char *err, size_t errlen);
/* Read path whole and parse it. */
int elf_load_file(struct elf_image *img, const char *path, char *err, size_t errlen);
void elf_free(struct elf_image *img);

/* Where the program headers are in memory once loaded unbiased: the
 * PT_PHDR address, else the address of the PT_LOAD bytes that hold file
 * offset e_phoff.  False when neither exists. */
bool elf_phdr_vaddr(const struct elf_image *img, uint64_t *vaddr);

#endif
