/* machine/linux_user.c: the process image of a user-mode run.
 *
 * Loading follows what Linux's binfmt_elf does for a static executable:
 * each PT_LOAD becomes memory with its p_flags as permissions (pages two
 * segments share get both sets), file bytes are copied in and the rest is
 * zero, brk starts at the page after the highest segment, and the stack
 * holds, from rsp up (System V AMD64 psABI, section 3.4.1):
 *
 *     argc | argv[0..argc-1] NULL | envp[..] NULL | auxv pairs, AT_NULL |
 *     padding | 16 AT_RANDOM bytes | "x86_64" | strings | AT_EXECFN | 8 zero bytes
 *
 * with rsp 16-byte aligned.  Memory is never shared with the host beyond
 * the bus regions: every guest pointer a syscall gets is checked here
 * against the region map and its permissions before any byte moves.
 */
#include "machine/linux_user.h"
#include "machine/linux_syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/elf.h"
#include "sim/config.h"
#include "sim/sim.h"

/* Linux's PROT_* values (uapi asm-generic/mman-common.h). */
enum { L_PROT_READ = 1, L_PROT_WRITE = 2, L_PROT_EXEC = 4 };

/* Auxiliary vector keys (uapi linux/auxvec.h, asm-x86/auxvec.h). */
enum {
	AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
	AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14,
	AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25,
	AT_HWCAP2 = 26, AT_EXECFN = 31,
};

/* Linux limits the strings of execve to a quarter of the stack rlimit. */
#define ARG_MAX_BYTES (LINUX_STACK_SIZE / 4)

static uint64_t page_down(uint64_t a) { return a & ~(LINUX_PAGE - 1); }
static uint64_t page_up(uint64_t a) { return (a + LINUX_PAGE - 1) & ~(LINUX_PAGE - 1); }

static unsigned prot_to_bus(unsigned prot)
{
	unsigned f = 0;
	/* x86 pages cannot be write- or execute-only: both imply read. */
	if (prot & (L_PROT_READ | L_PROT_WRITE | L_PROT_EXEC))
		f |= BUS_R;
	if (prot & L_PROT_WRITE)
		f |= BUS_W;
	if (prot & L_PROT_EXEC)
		f |= BUS_X;
	return f;
}

static unsigned pf_to_bus(unsigned pf)
{
	return prot_to_bus((pf & ELF_PF_R ? L_PROT_READ : 0) | (pf & ELF_PF_W ? L_PROT_WRITE : 0) |
			   (pf & ELF_PF_X ? L_PROT_EXEC : 0));
}

void linux_proc_init(struct linux_proc *p, struct sim *sim, struct bus *bus, struct cpu *cpu)
{
	struct config defaults;

	*p = (struct linux_proc){.sim = sim, .bus = bus, .cpu = cpu, .log = stderr};
	/* Guest stdio is a duplicate of host stdio, so a guest that closes
	 * its stderr does not silence the runner's own messages; anything
	 * else the host has open stays invisible to the guest. */
	for (int i = 0; i < 3; i++) {
		int h = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (h >= 0) {
			struct stat st;
			p->fds[i] = (struct linux_fd){.kind = LINUX_FD_HOST, .host = h,
				.regular = fstat(h, &st) == 0 && S_ISREG(st.st_mode)};
		}
	}
	linux_rlimit_defaults(p);
	config_defaults(&defaults);
	p->rtc_epoch = defaults.rtc.epoch;
	config_free(&defaults);
	sim_rng(sim, &p->rng_getrandom, "user.getrandom");
	p->syscalls = stats_counter(&sim->stats, "user.syscalls");
	p->unknown_syscalls = stats_counter(&sim->stats, "user.unknown_syscalls");
}

void linux_proc_free(struct linux_proc *p)
{
	for (int i = 0; i < LINUX_MAX_FDS; i++)
		if (p->fds[i].kind == LINUX_FD_HOST)
			close(p->fds[i].host);
	if (p->brk_host)
		munmap(p->brk_host, LINUX_BRK_MAX);
	free(p->exe);
	p->brk_host = NULL;
	p->exe = NULL;
}

/* ---- guest memory ---------------------------------------------------- */

bool user_range_ok(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned need)
{
	uint64_t end;
	if (len == 0)
		return true;
	if (__builtin_add_overflow(addr, len, &end))
		return false;
	while (addr < end) {
		struct bus_region *r = bus_find(p->bus, addr);
		if (!r || !r->host || (r->flags & need) != need)
			return false;
		if (r->base + r->size <= addr)  /* defensive: never loop forever */
			return false;
		addr = r->base + r->size;
		if (addr == 0)                  /* region ends at 2^64 */
			break;
	}
	return true;
}

uint64_t user_range_prefix(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned need)
{
	uint64_t done = 0;
	while (done < len) {
		struct bus_region *r = bus_find(p->bus, addr + done);
		if (!r || !r->host || (r->flags & need) != need || addr + done < addr)
			break;
		uint64_t left = r->base + r->size - (addr + done);
		if (left == 0 || left >= len - done)
			return len;
		done += left;
	}
	return done;
}

int user_read(struct linux_proc *p, void *dst, uint64_t src, size_t len)
{
	if (!user_range_ok(p, src, len, BUS_R) || (len && bus_dma_read(p->bus, src, dst, len)))
		return -EFAULT;
	return 0;
}

int user_write(struct linux_proc *p, uint64_t dst, const void *src, size_t len)
{
	if (!user_range_ok(p, dst, len, BUS_W) || (len && bus_dma_write(p->bus, dst, src, len)))
		return -EFAULT;
	return 0;
}

long user_read_string(struct linux_proc *p, char *dst, uint64_t src, size_t max)
{
	size_t got = 0;
	while (got < max) {
		uint64_t a = src + got;
		size_t chunk = LINUX_PAGE - (a & (LINUX_PAGE - 1));
		if (chunk > max - got)
			chunk = max - got;
		if (a < src || user_read(p, dst + got, a, chunk))
			return -EFAULT;
		char *nul = memchr(dst + got, 0, chunk);
		if (nul)
			return (long)(nul - dst);
		got += chunk;
	}
	return -ENAMETOOLONG;
}

/* ---- the memory map -------------------------------------------------- */

bool user_range_free(struct linux_proc *p, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	for (size_t i = 0; i < p->bus->nregions; i++) {
		const struct bus_region *r = &p->bus->regions[i];
		if (r->base < end && r->base + r->size > addr)
			return false;
	}
	return true;
}

bool user_range_mapped(struct linux_proc *p, uint64_t addr, uint64_t len)
{
	return user_range_ok(p, addr, len, 0);
}

static bool in_user_space(uint64_t addr, uint64_t len)
{
	return addr >= LINUX_MMAP_FLOOR && len <= LINUX_STACK_TOP && addr <= LINUX_STACK_TOP - len;
}

int64_t user_map_fixed(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned prot)
{
	if ((addr | len) & (LINUX_PAGE - 1) || len == 0)
		return -EINVAL;
	if (!in_user_space(addr, len))
		return -ENOMEM;
	if (!user_range_free(p, addr, len) && bus_remove(p->bus, addr, len))
		return -ENOMEM;
	if (bus_add_ram(p->bus, "user.mmap", addr, len, prot_to_bus(prot)))
		return -ENOMEM;
	return (int64_t)addr;
}

/* Top-down first fit below LINUX_MMAP_TOP, as Linux's default
 * (non-legacy) mmap layout does; a free, in-range hint is honoured. */
int64_t user_mmap_anywhere(struct linux_proc *p, uint64_t hint, uint64_t len, unsigned prot)
{
	if (len == 0 || len & (LINUX_PAGE - 1) || len > LINUX_MMAP_TOP - LINUX_MMAP_FLOOR)
		return -ENOMEM;
	hint = page_down(hint);
	if (hint && in_user_space(hint, len) && hint + len <= LINUX_MMAP_TOP &&
	    user_range_free(p, hint, len))
		return user_map_fixed(p, hint, len, prot);

	uint64_t top = LINUX_MMAP_TOP;
	for (size_t i = p->bus->nregions; i-- > 0;) {
		const struct bus_region *r = &p->bus->regions[i];
		if (r->base >= top)
			continue;
		if (r->base + r->size <= top - len)
			break;          /* the gap [r end, top) fits */
		top = r->base;
		if (top < LINUX_MMAP_FLOOR + len)
			return -ENOMEM;
	}
	if (top < LINUX_MMAP_FLOOR + len)
		return -ENOMEM;
	return user_map_fixed(p, top - len, len, prot);
}

int user_unmap(struct linux_proc *p, uint64_t addr, uint64_t len)
{
	if (addr & (LINUX_PAGE - 1) || len == 0)
		return -EINVAL;
	len = page_up(len);
	if (addr + len < addr || addr + len > LINUX_STACK_TOP)
		return -EINVAL;
	if (user_range_free(p, addr, len))
		return 0;
	return bus_remove(p->bus, addr, len) ? -ENOMEM : 0;
}

int user_protect(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned prot)
{
	if (addr & (LINUX_PAGE - 1))
		return -EINVAL;
	len = page_up(len);
	if (len == 0)
		return 0;
	if (addr + len < addr || !user_range_mapped(p, addr, len))
		return -ENOMEM;
	return bus_protect(p->bus, addr, len, prot_to_bus(prot)) ? -ENOMEM : 0;
}

uint64_t user_brk(struct linux_proc *p, uint64_t want)
{
	if (want < p->brk_start || want - p->brk_start > LINUX_BRK_MAX)
		return p->brk;
	uint64_t old_end = page_up(p->brk), new_end = page_up(want);
	if (new_end > old_end) {
		if (!user_range_free(p, old_end, new_end - old_end) ||
		    bus_add_host(p->bus, "user.brk", old_end, new_end - old_end, BUS_R | BUS_W,
				 p->brk_host + (old_end - p->brk_start)))
			return p->brk;
	} else if (new_end < old_end) {
		bus_remove(p->bus, new_end, old_end - new_end);
		/* A later brk must find zero-filled pages, as Linux gives. */
		madvise(p->brk_host + (new_end - p->brk_start), old_end - new_end, MADV_DONTNEED);
	}
	p->brk = want;
	return p->brk;
}

uint64_t user_now_ns(struct linux_proc *p)
{
	return p->sim->now / SIM_NS;
}

/* ---- loading ----------------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static int load_fail(const char *exe, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", exe);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Map the loads.  Page ranges of neighbouring segments may share a page
 * (end of text, start of data): such a page gets the union of both
 * permissions, as it would with mmap at page granularity. */
static int map_segments(struct linux_proc *p, const struct elf_image *img, const char *exe,
			char *err, size_t errlen)
{
	uint64_t bias = p->load_bias;
	size_t n = img->nsegs;
	uint64_t *cut = calloc(2 * n, sizeof *cut);
	size_t ncut = 0;

	if (!cut)
		return load_fail(exe, err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct elf_segment *s = &img->segs[i];
		uint64_t lo = page_down(s->vaddr + bias), hi = page_up(s->vaddr + bias + s->memsz);
		if (s->vaddr + bias < s->vaddr && bias < (1ULL << 63)) {
			free(cut);
			return load_fail(exe, err, errlen, "ELF program header %u: address wraps", s->index);
		}
		if (!in_user_space(lo, hi - lo) || hi > LINUX_MMAP_TOP) {
			free(cut);
			return load_fail(exe, err, errlen,
					 "ELF program header %u: segment at %#llx..%#llx is outside the "
					 "user address space", s->index, (unsigned long long)lo,
					 (unsigned long long)hi);
		}
		cut[ncut++] = lo;
		cut[ncut++] = hi;
	}
	/* Sort the cut points (few: insertion sort) and map each interval
	 * between consecutive cuts with the union of the covering flags. */
	for (size_t i = 1; i < ncut; i++)
		for (size_t j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			uint64_t t = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	for (size_t i = 0; i + 1 < ncut; i++) {
		uint64_t lo = cut[i], hi = cut[i + 1];
		unsigned flags = 0;
		bool covered = false;
		if (lo == hi)
			continue;
		for (size_t k = 0; k < n; k++) {
			const struct elf_segment *s = &img->segs[k];
			uint64_t slo = page_down(s->vaddr + bias), shi = page_up(s->vaddr + bias + s->memsz);
			if (slo < hi && shi > lo) {
				flags |= pf_to_bus(s->flags);
				covered = true;
			}
		}
		if (covered && bus_add_ram(p->bus, "user.elf", lo, hi - lo, flags)) {
			free(cut);
			return load_fail(exe, err, errlen, "cannot map %#llx..%#llx",
					 (unsigned long long)lo, (unsigned long long)hi);
		}
	}
	free(cut);
	/* Fresh RAM reads as zero, so only the file bytes need copying; DMA
	 * ignores page permissions, so read-only text is written here too. */
	for (size_t i = 0; i < n; i++) {
		const struct elf_segment *s = &img->segs[i];
		if (s->filesz && bus_dma_write(p->bus, s->vaddr + bias, img->data + s->offset, s->filesz))
			return load_fail(exe, err, errlen, "ELF program header %u: cannot copy segment",
					 s->index);
	}
	return 0;
}

/* The AT_HWCAP word is CPUID.1:EDX on x86 (arch/x86/include/asm/elf.h,
 * ELF_HWCAP), so it must be what the simulated CPU's cpuid answers. */
static uint64_t guest_hwcap(struct linux_proc *p)
{
	uint32_t r[4] = {0};
	cpu_cpuid(p->cpu, 1, 0, r);
	return r[3];
}

/* AT_HWCAP2 bit 1 (HWCAP2_FSGSBASE) is set when the kernel enabled
 * FSGSBASE for user mode, which it does when CPUID.7.0:EBX bit 0 says
 * the CPU has it (arch/x86/include/uapi/asm/hwcap2.h).  Bit 0 (ring-3
 * mwait) is never set. */
static uint64_t guest_hwcap2(struct linux_proc *p)
{
	uint32_t r[4] = {0};
	cpu_cpuid(p->cpu, 7, 0, r);
	return r[1] & 1 ? 2 : 0;
}

struct stack_builder {
	uint8_t *buf;           /* host image of [base, LINUX_STACK_TOP) */
	uint64_t base;          /* guest address of buf[0] */
	uint64_t sp;            /* grows down from LINUX_STACK_TOP */
	bool overflow;
};

static uint64_t push_bytes(struct stack_builder *sb, const void *data, size_t len)
{
	if (sb->overflow || sb->sp - sb->base < len) {
		sb->overflow = true;
		return 0;
	}
	sb->sp -= len;
	memcpy(sb->buf + (sb->sp - sb->base), data, len);
	return sb->sp;
}

static uint64_t push_string(struct stack_builder *sb, const char *s)
{
	return push_bytes(sb, s, strlen(s) + 1);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int build_stack(struct linux_proc *p, const struct elf_image *img, const char *exe,
		       int argc, char **argv, char **envp, char *err, size_t errlen)
{
	const uint64_t size = ARG_MAX_BYTES + 64 * 1024;   /* strings + tables */
	struct stack_builder sb = {.base = LINUX_STACK_TOP - size, .sp = LINUX_STACK_TOP};
	int envc = 0;
	uint8_t zero8[8] = {0}, random[16];
	struct rng rng;

	while (envp && envp[envc])
		envc++;
	uint64_t *argv_at = calloc((size_t)argc + 1, sizeof *argv_at);
	uint64_t *envp_at = calloc((size_t)envc + 1, sizeof *envp_at);
	sb.buf = calloc(1, size);
	if (!argv_at || !envp_at || !sb.buf) {
		free(argv_at);
		free(envp_at);
		free(sb.buf);
		return load_fail(exe, err, errlen, "out of memory");
	}

	if (bus_add_ram(p->bus, "user.stack", LINUX_STACK_TOP - LINUX_STACK_SIZE, LINUX_STACK_SIZE,
			BUS_R | BUS_W | (img->exec_stack ? BUS_X : 0))) {
		free(argv_at);
		free(envp_at);
		free(sb.buf);
		return load_fail(exe, err, errlen, "cannot map the stack");
	}

	push_bytes(&sb, zero8, sizeof zero8);   /* end marker, as Linux */
	uint64_t execfn = push_string(&sb, exe);
	for (int i = envc; i-- > 0;)
		envp_at[i] = push_string(&sb, envp[i]);
	for (int i = argc; i-- > 0;)
		argv_at[i] = push_string(&sb, argv[i]);
	uint64_t platform = push_string(&sb, "x86_64");
	sim_rng(p->sim, &rng, "user.at_random");
	rng_fill(&rng, random, sizeof random);
	uint64_t at_random = push_bytes(&sb, random, sizeof random);

	uint64_t phdr;
	if (!elf_phdr_vaddr(img, &phdr)) {
		/* The headers are in no segment: give the program a copy. */
		sb.sp &= ~15ULL;
		phdr = push_bytes(&sb, img->data + img->phoff, (size_t)img->phnum * ELF_PHDR_SIZE);
	} else {
		phdr += p->load_bias;
	}

	uint64_t auxv[][2] = {
		{AT_HWCAP, guest_hwcap(p)},
		{AT_PAGESZ, LINUX_PAGE},
		{AT_CLKTCK, 100},               /* USER_HZ on x86 */
		{AT_PHDR, phdr},
		{AT_PHENT, ELF_PHDR_SIZE},
		{AT_PHNUM, img->phnum},
		{AT_BASE, 0},                   /* no interpreter */
		{AT_FLAGS, 0},
		{AT_ENTRY, p->entry},
		{AT_UID, LINUX_UID}, {AT_EUID, LINUX_UID},
		{AT_GID, LINUX_GID}, {AT_EGID, LINUX_GID},
		{AT_SECURE, 0},
		{AT_RANDOM, at_random},
		{AT_HWCAP2, guest_hwcap2(p)},
		{AT_EXECFN, execfn},
		{AT_PLATFORM, platform},
		{AT_NULL, 0},
	};
	size_t nauxv = sizeof auxv / sizeof auxv[0];
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * nauxv;

	sb.sp &= ~15ULL;
	if (words & 1)                          /* keep the final rsp 16-aligned */
		sb.sp -= 8;
	if (sb.overflow || sb.sp - sb.base < words * 8) {
		free(argv_at);
		free(envp_at);
		free(sb.buf);
		return load_fail(exe, err, errlen, "argument list too long");
	}
	sb.sp -= words * 8;
	uint8_t *t = sb.buf + (sb.sp - sb.base);
	put64(t, (uint64_t)argc), t += 8;
	for (int i = 0; i < argc; i++)
		put64(t, argv_at[i]), t += 8;
	put64(t, 0), t += 8;
	for (int i = 0; i < envc; i++)
		put64(t, envp_at[i]), t += 8;
	put64(t, 0), t += 8;
	for (size_t i = 0; i < nauxv; i++) {
		put64(t, auxv[i][0]), t += 8;
		put64(t, auxv[i][1]), t += 8;
	}

	int rc = bus_dma_write(p->bus, sb.sp, sb.buf + (sb.sp - sb.base), LINUX_STACK_TOP - sb.sp);
	free(argv_at);
	free(envp_at);
	free(sb.buf);
	if (rc)
		return load_fail(exe, err, errlen, "cannot write the initial stack");

	for (int i = 0; i < 16; i++)
		p->cpu->gpr[i] = 0;
	p->cpu->gpr[CPU_RSP] = sb.sp;
	return 0;
}

int linux_proc_load(struct linux_proc *p, const struct elf_image *img, const char *exe,
		    int argc, char **argv, char **envp, char *err, size_t errlen)
{
	char resolved[PATH_MAX];

	if (img->interp)
		return load_fail(exe, err, errlen,
				 "not supported: dynamically linked (PT_INTERP %s); build with -static",
				 img->interp);
	p->exe = strdup(realpath(exe, resolved) ? resolved : exe);
	if (!p->exe)
		return load_fail(exe, err, errlen, "out of memory");
	/* comm, as Linux sets it: the file name, at most 15 bytes. */
	const char *base = strrchr(exe, '/');
	snprintf(p->comm, sizeof p->comm, "%s", base ? base + 1 : exe);

	/* Static PIE: Linux puts ET_DYN without an interpreter at
	 * ELF_ET_DYN_BASE (2/3 of the 47-bit space, page aligned) when
	 * randomisation is off (arch/x86/include/asm/elf.h). */
	p->load_bias = img->type == ELF_ET_DYN ? LINUX_DYN_BASE - page_down(img->vaddr_lo) : 0;
	p->entry = img->entry + p->load_bias;
	if (map_segments(p, img, exe, err, errlen))
		return -1;

	p->brk_start = p->brk = page_up(img->vaddr_hi + p->load_bias);
	p->brk_host = mmap(NULL, LINUX_BRK_MAX, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->brk_host == MAP_FAILED) {
		p->brk_host = NULL;
		return load_fail(exe, err, errlen, "cannot reserve host memory for the heap");
	}

	/* The mode switch may reset registers: set them after it. */
	cpu_set_mode_user64(p->cpu);
	if (build_stack(p, img, exe, argc, argv, envp, err, errlen))
		return -1;
	p->cpu->rip = p->entry;
	p->cpu->fs_base = 0;
	return 0;
}
