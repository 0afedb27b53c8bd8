/* machine/elf.c: ELF64 parsing and validation.
 *
 * The file is read whole and never trusted: every offset and size is
 * checked against the file before it is used, every sum is checked for
 * wrap-around, and the first problem found is reported as one line naming
 * the file and the field.  Field layouts are those of the System V gABI
 * (Elf64_Ehdr, Elf64_Phdr); they are decoded byte by byte as little-endian
 * so the host's struct layout and byte order never matter.
 */
#include "machine/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger executables than this are surely a mistake (busybox is 2 MiB). */
#define ELF_MAX_FILE ((size_t)1 << 30)
#define ELF_MAX_INTERP 4096

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

__attribute__((format(printf, 4, 5)))
static int fail(const struct elf_image *img, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", img->path ? img->path : "?");
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Sum without wrap-around; false if a + b does not fit. */
static bool add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static int check_header(struct elf_image *img, char *err, size_t errlen)
{
	const uint8_t *h = img->data;

	if (img->size < 4 || memcmp(h, "\177ELF", 4) != 0)
		return fail(img, err, errlen, "not an ELF file (no \\177ELF magic)");
	if (img->size < ELF_EHDR_SIZE)
		return fail(img, err, errlen, "truncated ELF header (%zu of %d bytes)",
			    img->size, ELF_EHDR_SIZE);
	if (h[4] == 1)
		return fail(img, err, errlen, "not supported: 32-bit ELF (ELFCLASS32); only ELF64 x86-64");
	if (h[4] != 2)
		return fail(img, err, errlen, "bad ELF class %u", h[4]);
	if (h[5] == 2)
		return fail(img, err, errlen, "not supported: big-endian ELF");
	if (h[5] != 1)
		return fail(img, err, errlen, "bad ELF data encoding %u", h[5]);
	if (h[6] != 1)
		return fail(img, err, errlen, "bad ELF ident version %u", h[6]);

	unsigned type = le16(h + 16), machine = le16(h + 18);
	if (machine != ELF_EM_X86_64)
		return fail(img, err, errlen, "not supported: ELF machine %u, not x86-64 (62)", machine);
	if (type != ELF_ET_EXEC && type != ELF_ET_DYN)
		return fail(img, err, errlen, "ELF type %u is not an executable (want ET_EXEC or ET_DYN)", type);
	if (le32(h + 20) != 1)
		return fail(img, err, errlen, "bad ELF e_version %u", le32(h + 20));
	if (le16(h + 52) != ELF_EHDR_SIZE)
		return fail(img, err, errlen, "bad ELF e_ehsize %u (want %d)", le16(h + 52), ELF_EHDR_SIZE);

	img->type = type;
	img->entry = le64(h + 24);
	img->phoff = le64(h + 32);
	img->phnum = le16(h + 56);
	unsigned phentsize = le16(h + 54);

	if (img->phnum == 0)
		return fail(img, err, errlen, "ELF has no program headers");
	if (img->phnum == 0xffff)
		return fail(img, err, errlen, "not supported: more than 65534 program headers (PN_XNUM)");
	if (phentsize != ELF_PHDR_SIZE)
		return fail(img, err, errlen, "bad ELF e_phentsize %u (want %d)", phentsize, ELF_PHDR_SIZE);
	uint64_t end;
	if (!add_ok(img->phoff, (uint64_t)img->phnum * ELF_PHDR_SIZE, &end) || end > img->size)
		return fail(img, err, errlen,
			    "truncated ELF: program header table (%u entries at offset %#llx) "
			    "ends past the end of the file (%zu bytes)",
			    img->phnum, (unsigned long long)img->phoff, img->size);
	return 0;
}

static int check_load(struct elf_image *img, struct elf_segment *s, char *err, size_t errlen)
{
	uint64_t end;

	if (s->filesz > s->memsz)
		return fail(img, err, errlen, "ELF program header %u: p_filesz larger than p_memsz", s->index);
	if (!add_ok(s->offset, s->filesz, &end) || end > img->size)
		return fail(img, err, errlen,
			    "truncated ELF: program header %u: segment data (offset %#llx, %llu bytes) "
			    "ends past the end of the file (%zu bytes)", s->index,
			    (unsigned long long)s->offset, (unsigned long long)s->filesz, img->size);
	if (!add_ok(s->vaddr, s->memsz, &end))
		return fail(img, err, errlen, "ELF program header %u: p_vaddr + p_memsz wraps around", s->index);
	if (!add_ok(s->paddr, s->memsz, &end))
		return fail(img, err, errlen, "ELF program header %u: p_paddr + p_memsz wraps around", s->index);
	if (s->align > 1) {
		if (s->align & (s->align - 1))
			return fail(img, err, errlen, "ELF program header %u: p_align %#llx is not a power of two",
				    s->index, (unsigned long long)s->align);
		if ((s->vaddr - s->offset) & (s->align - 1))
			return fail(img, err, errlen,
				    "ELF program header %u: p_vaddr and p_offset disagree modulo p_align", s->index);
	}
	return 0;
}

static int check_interp(struct elf_image *img, unsigned index, uint64_t offset, uint64_t filesz,
			char *err, size_t errlen)
{
	uint64_t end;
	if (img->interp)
		return fail(img, err, errlen, "ELF program header %u: second PT_INTERP", index);
	if (filesz == 0 || filesz > ELF_MAX_INTERP)
		return fail(img, err, errlen, "ELF program header %u: PT_INTERP size %llu out of range",
			    index, (unsigned long long)filesz);
	if (!add_ok(offset, filesz, &end) || end > img->size)
		return fail(img, err, errlen, "truncated ELF: program header %u: PT_INTERP past the end of the file",
			    index);
	if (img->data[offset + filesz - 1] != 0)
		return fail(img, err, errlen, "ELF program header %u: PT_INTERP not NUL-terminated", index);
	img->interp = strdup((const char *)img->data + offset);
	return img->interp ? 0 : fail(img, err, errlen, "out of memory");
}

static int by_vaddr(const void *a, const void *b)
{
	const struct elf_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int check_program_headers(struct elf_image *img, char *err, size_t errlen)
{
	img->segs = calloc(img->phnum, sizeof *img->segs);
	if (!img->segs)
		return fail(img, err, errlen, "out of memory");

	for (unsigned i = 0; i < img->phnum; i++) {
		const uint8_t *p = img->data + img->phoff + (uint64_t)i * ELF_PHDR_SIZE;
		uint32_t type = le32(p), flags = le32(p + 4);
		uint64_t offset = le64(p + 8), filesz = le64(p + 32), memsz = le64(p + 40);

		switch (type) {
		case ELF_PT_LOAD: {
			struct elf_segment *s = &img->segs[img->nsegs];
			*s = (struct elf_segment){
				.index = i, .offset = offset, .vaddr = le64(p + 16), .paddr = le64(p + 24),
				.filesz = filesz, .memsz = memsz, .align = le64(p + 48),
				.flags = flags & (ELF_PF_R | ELF_PF_W | ELF_PF_X),
			};
			if (check_load(img, s, err, errlen))
				return -1;
			if (memsz)      /* empty loads map nothing */
				img->nsegs++;
			break;
		}
		case ELF_PT_INTERP:
			if (check_interp(img, i, offset, filesz, err, errlen))
				return -1;
			break;
		case ELF_PT_PHDR:
			img->has_phdr = true;
			img->phdr_vaddr = le64(p + 16);
			break;
		case ELF_PT_TLS: {
			uint64_t end;
			if (filesz > memsz)
				return fail(img, err, errlen, "ELF program header %u: p_filesz larger than p_memsz", i);
			if (!add_ok(offset, filesz, &end) || end > img->size)
				return fail(img, err, errlen,
					    "truncated ELF: program header %u: TLS data past the end of the file", i);
			break;
		}
		case ELF_PT_GNU_STACK:
			img->exec_stack = flags & ELF_PF_X;
			break;
		default:
			break;
		}
	}
	if (img->nsegs == 0)
		return fail(img, err, errlen, "ELF has no loadable segments");

	qsort(img->segs, img->nsegs, sizeof *img->segs, by_vaddr);
	for (size_t i = 1; i < img->nsegs; i++) {
		const struct elf_segment *a = &img->segs[i - 1], *b = &img->segs[i];
		if (b->vaddr < a->vaddr + a->memsz)
			return fail(img, err, errlen, "ELF program header %u overlaps program header %u",
				    b->index, a->index);
	}
	const struct elf_segment *last = &img->segs[img->nsegs - 1];
	img->vaddr_lo = img->segs[0].vaddr;
	img->vaddr_hi = last->vaddr + last->memsz;

	bool entry_ok = false;
	for (size_t i = 0; i < img->nsegs; i++)
		if (img->entry - img->segs[i].vaddr < img->segs[i].memsz)
			entry_ok = true;
	if (!entry_ok)
		return fail(img, err, errlen, "ELF entry point %#llx is outside every loadable segment",
			    (unsigned long long)img->entry);
	return 0;
}

int elf_parse(struct elf_image *img, const char *path, uint8_t *data, size_t size,
	      char *err, size_t errlen)
{
	*img = (struct elf_image){.path = strdup(path ? path : "?"), .data = data, .size = size};
	if (!img->path)
		return fail(img, err, errlen, "out of memory");
	if (check_header(img, err, errlen) || check_program_headers(img, err, errlen)) {
		/* Keep the message, free the rest. */
		elf_free(img);
		return -1;
	}
	return 0;
}

int elf_load_file(struct elf_image *img, const char *path, char *err, size_t errlen)
{
	struct elf_image named = {.path = (char *)path};
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*img = (struct elf_image){0};
	if (fd < 0)
		return fail(&named, err, errlen, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(&named, err, errlen, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(&named, err, errlen, "not a regular file");
	}
	if ((uint64_t)st.st_size > ELF_MAX_FILE) {
		close(fd);
		return fail(&named, err, errlen, "file too large for an executable (%lld bytes)",
			    (long long)st.st_size);
	}
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *data = malloc(size ? size : 1);
	if (!data) {
		close(fd);
		return fail(&named, err, errlen, "out of memory");
	}
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;
			close(fd);
			free(data);
			return fail(&named, err, errlen, "read error: %s", e ? strerror(e) : "file shrank");
		}
		got += (size_t)n;
	}
	close(fd);
	return elf_parse(img, path, data, size, err, errlen);
}

void elf_free(struct elf_image *img)
{
	free(img->path);
	free(img->data);
	free(img->segs);
	free(img->interp);
	*img = (struct elf_image){0};
}

bool elf_phdr_vaddr(const struct elf_image *img, uint64_t *vaddr)
{
	if (img->has_phdr) {
		*vaddr = img->phdr_vaddr;
		return true;
	}
	uint64_t len = (uint64_t)img->phnum * ELF_PHDR_SIZE;
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->segs[i];
		if (img->phoff >= s->offset && img->phoff + len <= s->offset + s->filesz) {
			*vaddr = s->vaddr + (img->phoff - s->offset);
			return true;
		}
	}
	return false;
}
