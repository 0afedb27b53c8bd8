/* pvm/kernel/cmdline.c: the kernel command line (Multiboot cmdline).
 *
 * Words separated by spaces; each is key=value (unknown keys are reported
 * and ignored, a bare word like the loader's kernel path is skipped).
 * Numbers are decimal or 0x-hex and may end in K, M or G.  Example:
 *
 *     workload=cbank backend=pmem pmem=0x10000000,64M snapshot_ms=50 snapshots=3
 *
 * docs/guest.md lists every key with its default.
 */
#include "pvm/kernel/kernel.h"

struct cmdline cmdline = {
	.workload = "",                 /* "": the PVM if linked in, else cbank */
	.backend = "auto",              /* pmem if a PM region exists, else disk, else none */
	.snapshot_ms = 100,
	.objspace_mb = 64,
	.seed = 1,
	.work = 1,
	.dirty_pages = 164,
	.dirty_mode = "spread",
	.pageout = 64,
	.frames = "dram",
};

static bool parse_num(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned base = 10;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = v * base + d;
	}
	if (i < n) {
		if (i + 1 != n)
			return false;
		switch (s[i]) {
		case 'k': case 'K': v <<= 10; break;
		case 'm': case 'M': v <<= 20; break;
		case 'g': case 'G': v <<= 30; break;
		default: return false;
		}
	}
	*out = v;
	return true;
}

static void set_str(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

static void parse_word(const char *w, size_t n)
{
	const char *eq = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i] == '=') {
			eq = w + i;
			break;
		}
	if (!eq)
		return;                 /* the kernel's path, or a bare flag */
	size_t klen = (size_t)(eq - w);
	const char *v = eq + 1;
	size_t vlen = n - klen - 1;
	bool ok = true;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(w, k, klen) == 0)
	if (KEY("workload"))
		set_str(cmdline.workload, sizeof cmdline.workload, v, vlen);
	else if (KEY("backend")) {
		set_str(cmdline.backend, sizeof cmdline.backend, v, vlen);
		ok = !strcmp(cmdline.backend, "pmem") || !strcmp(cmdline.backend, "disk") ||
		     !strcmp(cmdline.backend, "none") || !strcmp(cmdline.backend, "auto");
	} else if (KEY("snapshot_ms"))
		ok = parse_num(v, vlen, &cmdline.snapshot_ms) && cmdline.snapshot_ms > 0;
	else if (KEY("objspace_mb"))
		ok = parse_num(v, vlen, &cmdline.objspace_mb) && cmdline.objspace_mb >= 1 &&
		     cmdline.objspace_mb <= OBJSPACE_MAX_MB;
	else if (KEY("seed"))
		ok = parse_num(v, vlen, &cmdline.seed);
	else if (KEY("snapshots"))
		ok = parse_num(v, vlen, &cmdline.snapshots);
	else if (KEY("work"))
		ok = parse_num(v, vlen, &cmdline.work);
	else if (KEY("dirty_pages"))
		ok = parse_num(v, vlen, &cmdline.dirty_pages) && cmdline.dirty_pages >= 1;
	else if (KEY("dirty_mode")) {
		set_str(cmdline.dirty_mode, sizeof cmdline.dirty_mode, v, vlen);
		ok = vlen < sizeof cmdline.dirty_mode && (!strcmp(cmdline.dirty_mode, "burst") ||
			!strcmp(cmdline.dirty_mode, "spread") || !strcmp(cmdline.dirty_mode, "late"));
	} else if (KEY("frames")) {
		set_str(cmdline.frames, sizeof cmdline.frames, v, vlen);
		ok = vlen < sizeof cmdline.frames &&
		     (!strcmp(cmdline.frames, "dram") || !strcmp(cmdline.frames, "pm"));
	} else if (KEY("pageout"))
		ok = parse_num(v, vlen, &cmdline.pageout);
	else if (KEY("bug"))
		set_str(cmdline.bug, sizeof cmdline.bug, v, vlen);
	else if (KEY("selftest"))
		set_str(cmdline.selftest, sizeof cmdline.selftest, v, vlen);
	else if (KEY("format")) {
		uint64_t f = 0;
		ok = parse_num(v, vlen, &f);
		cmdline.format = f != 0;
	} else if (KEY("pci_assign")) {
		uint64_t f = 0;
		ok = parse_num(v, vlen, &f);
		cmdline.pci_assign = f != 0;
	} else if (KEY("pmem")) {
		size_t comma = 0;
		while (comma < vlen && v[comma] != ',')
			comma++;
		ok = comma < vlen && parse_num(v, comma, &cmdline.pmem_base) &&
		     parse_num(v + comma + 1, vlen - comma - 1, &cmdline.pmem_size) &&
		     cmdline.pmem_size >= 1 << 20 && cmdline.pmem_base % PAGE_SIZE == 0;
	} else {
		kprintf("cmdline: unknown key '%.*s' ignored\n", (int)klen, w);
		return;
	}
#undef KEY
	if (!ok)
		panic("cmdline: bad value in '%.*s'", (int)n, w);
}

void cmdline_parse(const char *s)
{
	while (*s) {
		while (*s == ' ')
			s++;
		const char *w = s;
		while (*s && *s != ' ')
			s++;
		if (s > w)
			parse_word(w, (size_t)(s - w));
	}
}
