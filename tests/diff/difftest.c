/* tests/diff/difftest.c: differential test of the CPU against the host
 * processor and Unicorn.
 *
 *     difftest [--seed S] [--seeds K] [--count N] [--first I] [--index I]
 *              [--report K] [--no-host] [--no-unicorn] [--no-ours] [--verbose]
 *              [--blame]
 *
 * Without --seed, --seeds, --count or --index (as `make check` runs it):
 * seeds 1 to 4, 25,000 cases each.  --seed S alone: that seed, 100,000
 * cases.  --seeds K: K seeds from S (default 1), --count cases each.
 *
 * Cases come from tests/diff/gen.c in batches.  Each batch starts in the
 * host runner's child process, and while the real CPU works through it the
 * parent runs the same cases on our CPU and on Unicorn; then every result
 * is compared with the host's (Unicorn's when the host runner is
 * unavailable).  A mismatch prints the seed and index, the code in hex,
 * Capstone's disassembly and the registers of all three; `--seed S
 * --index I` runs exactly that case again.  At the end each mismatching
 * case is cut down to its first failing instruction, and the failing forms
 * are summarised (--blame lists each case).  See docs/difftest.md.
 *
 * Exit status: 0 ours agreed with the reference, 1 mismatches, 2 usage or
 * setup error, 77 (skip) when neither reference is available.
 */
#include "config.h"
#include <capstone/capstone.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tests/diff/difftest.h"
#include "tests/diff/gen.h"

#define BATCH 2000
#define MAX_BLAME 2000

static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

struct opts {
	uint64_t seed;
	uint64_t nseeds;        /* seeds seed .. seed + nseeds - 1 */
	uint64_t count;         /* cases per seed */
	uint64_t first;
	long index;             /* -1: all */
	unsigned report;        /* detailed reports to print */
	bool host, unicorn, ours, verbose, blame_list;
};

struct stats {
	uint64_t cases, ours_bad, uc_bad, uc_skipped, faults_expected, faults_seen, unjudged;
	unsigned reported, uc_reported;
	unsigned *form_bad;     /* by form id, from the blame pass */
	unsigned *form_seen;
	uint64_t blame_list[MAX_BLAME];         /* first mismatching cases */
	uint64_t blame_seed[MAX_BLAME];         /* and their seeds */
	unsigned nblame;
};

static csh cs;

static void disasm_case(const struct dt_case *c, FILE *out)
{
	fprintf(out, "  code (%u bytes):", c->len);
	for (unsigned i = 0; i < c->len; i++)
		fprintf(out, " %02x", c->code[i]);
	fprintf(out, "\n");
	for (unsigned k = 0; k < c->ninsns; k++) {
		unsigned off = c->insn_off[k], len = c->insn_off[k + 1] - off;
		char hex[64] = "";
		for (unsigned i = 0; i < len && i < 15; i++)
			snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", c->code[off + i]);
		cs_insn *insn;
		size_t n = cs_disasm(cs, c->code + off, len, DT_CODE + off, 1, &insn);
		char text[256];
		if (n == 1 && insn[0].size == len)
			snprintf(text, sizeof text, "%s %s", insn[0].mnemonic, insn[0].op_str);
		else
			snprintf(text, sizeof text, "(capstone: %s)", n ? "different length" : "undecodable");
		if (n)
			cs_free(insn, n);
		const struct insn_form *f = dt_gen_form(c->insn_form[k]);
		fprintf(out, "  %3x: %-45s %-40s %s%s%s\n", off, hex, text,
			f ? "form " : "setup", f ? f->mnemonic : "", f ? "" : "");
		if (f)
			fprintf(out, "       %48s  [table #%u %s %s]\n", "", f->id, f->mnemonic, f->operands);
	}
}

static const char *vec_name(int v, char *buf, size_t size)
{
	switch (v) {
	case DT_VEC_NONE: return "completed";
	case DT_VEC_HANG: return "HANG";
	case DT_VEC_ERROR: return "runner error";
	case 0: return "#DE";
	case 6: return "#UD";
	case 13: return "#GP";
	case 14: return "#PF";
	case 16: return "#MF";
	case 17: return "#AC";
	case 19: return "#XM";
	}
	snprintf(buf, size, "vector %d", v);
	return buf;
}

/* Index of the instruction at a fault's rip (ninsns if none). */
static unsigned insn_at(const struct dt_case *c, const struct dt_result *r)
{
	if (r->vector == DT_VEC_NONE)
		return c->ninsns;
	for (unsigned k = 0; k < c->ninsns; k++)
		if (DT_CODE + c->insn_off[k] == r->regs.rip)
			return k;
	return c->ninsns;
}

/* rcp/rsqrt results: both within 1.5*2^-12 relative of the true value
 * (SDM vol. 2, RCPPS), so within about 3*2^-12 of each other. */
static bool approx_equal(const uint8_t *a, const uint8_t *b)
{
	float x, y;
	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	if (isinf(x) || isinf(y) || x == 0 || y == 0)
		return x == y;
	return fabsf(x - y) <= fabsf(x) * (3.0f / 4096.0f) + 1e-45f;
}

/* x87 transcendentals: within 2^-60 relative (a few units in the last
 * place of the 64-bit significand). */
static bool approx_equal_x87(const uint8_t *a, const uint8_t *b)
{
	long double x = 0, y = 0;
	memcpy(&x, a, 10);
	memcpy(&y, b, 10);
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	if (isinf(x) || isinf(y) || x == 0 || y == 0)
		return x == y;
	return fabsl(x - y) <= fabsl(x) * 0x1p-60L;
}

/* What differs between a (the reference) and b. */
enum {
	D_VECTOR = 1, D_RIP = 2, D_GPR = 4, D_FLAGS = 8, D_XMM = 16, D_MXCSR = 32,
	D_X87 = 64, D_MEM = 128, D_FAULTADDR = 256,
};

static unsigned compare(const struct dt_case *c, const struct dt_result *a,
			const struct dt_result *b, bool unicorn)
{
	unsigned d = 0;
	if (a->vector != b->vector)
		return D_VECTOR;
	if (a->vector < 0 && a->vector != DT_VEC_NONE)
		return D_VECTOR;                /* both hung or errored */
	/* Unicorn stops on an unmapped access with the state of the start of
	 * the translation block, not of the faulting instruction. */
	if (unicorn && a->vector == 14)
		return a->fault_addr != b->fault_addr ? D_FAULTADDR : 0;
	unsigned k = insn_at(c, a);
	const struct dt_regs *x = &a->regs, *y = &b->regs;
	if (x->rip != y->rip)
		d |= D_RIP;
	if (memcmp(x->gpr, y->gpr, sizeof x->gpr))
		d |= D_GPR;
	uint64_t fm = DT_FL_COMPARED & ~(uint64_t)c->undef_flags_at[k];
	if ((x->rflags ^ y->rflags) & fm)
		d |= D_FLAGS;
	uint32_t mm = unicorn ? ~DT_MXCSR_FLAGS : ~0u;
	if ((x->fx.mxcsr ^ y->fx.mxcsr) & mm)
		d |= D_MXCSR;
	for (int i = 0; i < 16; i++) {
		if (i == c->approx_xmm && a->vector == DT_VEC_NONE) {
			for (unsigned l = 0; l < 4; l++) {
				if (l < c->approx_lanes ? !approx_equal(x->fx.xmm[i] + 4 * l, y->fx.xmm[i] + 4 * l)
						       : memcmp(x->fx.xmm[i] + 4 * l, y->fx.xmm[i] + 4 * l, 4))
					d |= D_XMM;
			}
		} else if (memcmp(x->fx.xmm[i], y->fx.xmm[i], 16)) {
			d |= D_XMM;
		}
	}
	uint16_t sm = (uint16_t)~c->undef_fsw_at[k];
	/* QEMU's x87 keeps neither the exception flags nor C1. */
	if (unicorn)
		sm &= (uint16_t)~(0x0200 | 0x00ff);
	if (x->fx.fcw != y->fx.fcw || ((x->fx.fsw ^ y->fx.fsw) & sm) || x->fx.ftw != y->fx.ftw)
		d |= D_X87;
	unsigned top = (x->fx.fsw >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		if (!((x->fx.ftw >> ((top + i) & 7)) & 1) || !memcmp(x->fx.st[i], y->fx.st[i], 10))
			continue;
		if (!((c->approx_st >> i) & 1) || a->vector != DT_VEC_NONE || !approx_equal_x87(x->fx.st[i], y->fx.st[i]))
			d |= D_X87;
	}
	for (unsigned i = 0; i < DT_PAGE; i++) {
		if (a->scratch[i] != b->scratch[i] && !((c->scratch_mask[i / 8] >> (i % 8)) & 1)) {
			d |= D_MEM;
			break;
		}
	}
	if (a->vector == 14 && a->fault_addr != b->fault_addr)
		d |= D_FAULTADDR;
	return d;
}

static void print_diff_names(unsigned d, FILE *out)
{
	static const char *const n[] = { "exception", "rip", "gpr", "rflags", "xmm", "mxcsr",
					 "x87", "memory", "fault-address" };
	for (unsigned i = 0; i < 9; i++)
		if (d & (1u << i))
			fprintf(out, " %s", n[i]);
}

static void print_regs(const struct dt_case *c, const struct dt_result *r[3],
		       const char *const who[3], FILE *out)
{
	char b0[32], b1[32], b2[32];
	fprintf(out, "  %-10s", "");
	for (int j = 0; j < 3; j++)
		if (r[j])
			fprintf(out, " %-22s", who[j]);
	fprintf(out, "\n  %-10s", "exception");
	const char *vn[3] = { r[0] ? vec_name(r[0]->vector, b0, sizeof b0) : "",
			      r[1] ? vec_name(r[1]->vector, b1, sizeof b1) : "",
			      r[2] ? vec_name(r[2]->vector, b2, sizeof b2) : "" };
	for (int j = 0; j < 3; j++)
		if (r[j])
			fprintf(out, " %-22s", vn[j]);
	fprintf(out, "\n");
	bool all = true;        /* print rows that agree too */
#define ROW(name, expr, fmt)                                                      \
	do {                                                                      \
		bool diff = false;                                                \
		for (int j = 1; j < 3; j++)                                       \
			if (r[j] && r[0] && (expr(r[j])) != (expr(r[0])))         \
				diff = true;                                      \
		if (!diff && !all)                                                \
			break;                                                    \
		fprintf(out, "%c %-10s", diff ? '*' : ' ', name);                 \
		for (int j = 0; j < 3; j++)                                       \
			if (r[j])                                                 \
				fprintf(out, " " fmt, (expr(r[j])));              \
		fprintf(out, "\n");                                               \
	} while (0)
	for (int i = 0; i < 16; i++) {
#define GPR(p) ((p)->regs.gpr[i])
		ROW(gpr_name[i], GPR, "%016" PRIx64 "      ");
	}
#define RIP(p) ((p)->regs.rip)
	ROW("rip", RIP, "%016" PRIx64 "      ");
	unsigned k = r[0] ? insn_at(c, r[0]) : c->ninsns;
	uint64_t fm = DT_FL_COMPARED & ~(uint64_t)c->undef_flags_at[k];
#define FL(p) ((p)->regs.rflags & fm)
	ROW("rflags", FL, "%016" PRIx64 "      ");
	fprintf(out, "  (rflags compared under mask %03" PRIx64 ")\n", fm);
#define MX(p) ((p)->regs.fx.mxcsr)
	ROW("mxcsr", MX, "%08x              ");
	all = false;
	for (int i = 0; i < 16; i++) {
#define XH(p) (((uint64_t)(p)->regs.fx.xmm[i][8]) | ((uint64_t)(p)->regs.fx.xmm[i][9] << 8) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][10] << 16) | ((uint64_t)(p)->regs.fx.xmm[i][11] << 24) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][12] << 32) | ((uint64_t)(p)->regs.fx.xmm[i][13] << 40) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][14] << 48) | ((uint64_t)(p)->regs.fx.xmm[i][15] << 56))
#define XL(p) (((uint64_t)(p)->regs.fx.xmm[i][0]) | ((uint64_t)(p)->regs.fx.xmm[i][1] << 8) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][2] << 16) | ((uint64_t)(p)->regs.fx.xmm[i][3] << 24) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][4] << 32) | ((uint64_t)(p)->regs.fx.xmm[i][5] << 40) | \
	       ((uint64_t)(p)->regs.fx.xmm[i][6] << 48) | ((uint64_t)(p)->regs.fx.xmm[i][7] << 56))
		char name[24];
		snprintf(name, sizeof name, "xmm%d.hi", i);
		ROW(name, XH, "%016" PRIx64 "      ");
		snprintf(name, sizeof name, "xmm%d.lo", i);
		ROW(name, XL, "%016" PRIx64 "      ");
	}
	all = true;
#define FCW(p) ((p)->regs.fx.fcw)
	ROW("fcw", FCW, "%04x                  ");
	uint16_t sm = (uint16_t)~c->undef_fsw_at[k];
#define FSW(p) ((p)->regs.fx.fsw & sm)
	ROW("fsw", FSW, "%04x                  ");
#define FTW(p) ((p)->regs.fx.ftw)
	ROW("ftw", FTW, "%02x                    ");
	all = false;
	for (int i = 0; i < 8; i++) {
#define STM(p) (((uint64_t)(p)->regs.fx.st[i][0]) | ((uint64_t)(p)->regs.fx.st[i][1] << 8) | \
	       ((uint64_t)(p)->regs.fx.st[i][2] << 16) | ((uint64_t)(p)->regs.fx.st[i][3] << 24) | \
	       ((uint64_t)(p)->regs.fx.st[i][4] << 32) | ((uint64_t)(p)->regs.fx.st[i][5] << 40) | \
	       ((uint64_t)(p)->regs.fx.st[i][6] << 48) | ((uint64_t)(p)->regs.fx.st[i][7] << 56))
#define STE(p) ((unsigned)(p)->regs.fx.st[i][8] | (unsigned)(p)->regs.fx.st[i][9] << 8)
		char name[24];
		snprintf(name, sizeof name, "st%d.exp", i);
		ROW(name, STE, "%04x                  ");
		snprintf(name, sizeof name, "st%d.mant", i);
		ROW(name, STM, "%016" PRIx64 "      ");
	}
	all = true;
#define FA(p) ((p)->fault_addr)
	ROW("fault", FA, "%016" PRIx64 "      ");
	for (unsigned i = 0; i < DT_PAGE; i++) {
		bool diff = false;
		for (int j = 1; j < 3; j++)
			if (r[j] && r[0] && r[j]->scratch[i] != r[0]->scratch[i])
				diff = true;
		if (!diff)
			continue;
		bool masked = (c->scratch_mask[i / 8] >> (i % 8)) & 1;
		fprintf(out, "%c mem %08" PRIx64 "", masked ? ' ' : '*', (uint64_t)(DT_SCRATCH + i));
		for (int j = 0; j < 3; j++)
			if (r[j])
				fprintf(out, " %02x (was %02x)           ", r[j]->scratch[i], c->scratch[i]);
		fprintf(out, "%s\n", masked ? " (masked)" : "");
	}
}

static void report(uint64_t seed, const struct dt_case *c, uint64_t index,
		   const struct dt_result *ours, const struct dt_result *host,
		   const struct dt_result *uc, const char *what, unsigned d)
{
	FILE *out = stdout;
	fprintf(out, "MISMATCH %s: seed %" PRIu64 " index %" PRIu64 ", differs in", what, seed, index);
	print_diff_names(d, out);
	fprintf(out, "\n  reproduce: difftest --seed %" PRIu64 " --index %" PRIu64 "\n", seed, index);
	disasm_case(c, out);
	const struct dt_result *r[3] = { host, ours, uc };
	const char *const who[3] = { "host", "ours", "unicorn" };
	if (!host) {
		r[0] = uc;
		r[2] = NULL;
	}
	print_regs(c, r, who, out);
	fprintf(out, "\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: difftest [--seed S] [--seeds K] [--count N] [--first I] [--index I]\n"
		"                [--report K] [--no-host] [--no-unicorn] [--no-ours] [--verbose] [--blame]\n"
		"  no --seed/--seeds/--count/--index: seeds 1-4, 25,000 cases each (make check)\n"
		"  DIFFTEST_FORMS=adc,shl,...  restricts the forms drawn (debugging only)\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->seed = 1;
	o->nseeds = 0;
	o->count = 0;
	bool seed_given = false;
	o->first = 0;
	o->index = -1;
	o->report = 10;
	o->host = o->unicorn = o->ours = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--seed") && v)
			o->seed = strtoull(v, NULL, 0), seed_given = true, i++;
		else if (!strcmp(a, "--seeds") && v)
			o->nseeds = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--count") && v)
			o->count = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--first") && v)
			o->first = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--index") && v)
			o->index = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--report") && v)
			o->report = (unsigned)strtoul(v, NULL, 0), i++;
		else if (!strcmp(a, "--no-host"))
			o->host = false;
		else if (!strcmp(a, "--no-unicorn"))
			o->unicorn = false;
		else if (!strcmp(a, "--no-ours"))
			o->ours = false;
		else if (!strcmp(a, "--verbose"))
			o->verbose = true;
		else if (!strcmp(a, "--blame"))
			o->blame_list = true;
		else {
			usage();
			return -1;
		}
	}
	if (!o->nseeds) {
		/* The default run spreads its 100,000 cases over four seeds. */
		bool dflt = !seed_given && !o->count && o->index < 0;
		o->nseeds = dflt ? 4 : 1;
		if (!o->count)
			o->count = dflt ? 25000 : 100000;
	} else if (!o->count) {
		o->count = 100000;
	}
	if (o->index >= 0) {
		o->first = (uint64_t)o->index;
		o->nseeds = 1;
		o->count = 1;
		o->report = 1;
		o->verbose = true;
	}
	return 0;
}

/* Cut a case down to its first k instructions. */
static void truncate_case(struct dt_case *dst, const struct dt_case *src, unsigned k)
{
	*dst = *src;
	dst->ninsns = k;
	dst->len = src->insn_off[k];
	memset(dst->code + dst->len, 0, DT_CODE_MAX - dst->len);
	dst->undef_flags_at[k] = src->undef_flags_at[k];
	dst->undef_fsw_at[k] = src->undef_fsw_at[k];
	if (src->approx_xmm >= 0 && k < src->ninsns)
		dst->approx_xmm = -1;
}

/* For each mismatching case, find the first main instruction whose
 * inclusion makes ours differ from the host, and count its form.  All the
 * truncated cases go to the host runner as one batch. */
static void blame(struct stats *st, const struct opts *o, struct dt_gen *G, struct dt_host *host,
		  struct dt_ours *ours)
{
	if (!st->nblame || !host)
		return;
	size_t cap = (size_t)st->nblame * 9;    /* about 4.5 main insns a case */
	struct dt_case *cases = dt_host_alloc(sizeof *cases * cap);
	struct dt_result *hres = dt_host_alloc(sizeof *hres * cap);
	struct dt_case *orig = malloc(sizeof *orig);
	struct dt_result *ores = malloc(sizeof *ores);
	unsigned *owner = malloc(sizeof *owner * cap);
	int16_t *form = malloc(sizeof *form * cap);
	if (!cases || !hres || !orig || !ores || !owner || !form)
		goto out;
	size_t n = 0;
	for (unsigned b = 0; b < st->nblame; b++) {
		dt_gen_case(G, st->blame_seed[b], st->blame_list[b], orig);
		for (unsigned k = 0; k < orig->ninsns && n < cap; k++) {
			if (orig->insn_form[k] < 0)
				continue;
			truncate_case(&cases[n], orig, k + 1);
			owner[n] = b;
			form[n++] = orig->insn_form[k];
		}
	}
	if (dt_host_run(host, cases, hres, n))
		goto out;
	unsigned done = ~0u;
	for (size_t j = 0; j < n; j++) {
		if (owner[j] == done)
			continue;
		dt_ours_run(ours, &cases[j], ores);
		if (compare(&cases[j], &hres[j], ores, false)) {
			st->form_bad[form[j]]++;
			done = owner[j];
			if (o->blame_list)
				printf("blame: seed %" PRIu64 " index %" PRIu64 " first fails at #%d %s\n",
				       st->blame_seed[owner[j]], st->blame_list[owner[j]],
				       form[j], dt_gen_form(form[j])->mnemonic);
		}
	}
out:
	dt_host_free(cases, sizeof *cases * cap);
	dt_host_free(hres, sizeof *hres * cap);
	free(orig);
	free(ores);
	free(owner);
	free(form);
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	if (parse(argc, argv, &o))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		fprintf(stderr, "difftest: cs_open failed\n");
		return 2;
	}
	const char *filter = getenv("DIFFTEST_FORMS");
	struct dt_gen *G = dt_gen_new(filter);
	if (!G || !dt_gen_nforms(G)) {
		fprintf(stderr, "difftest: no forms to test\n");
		return 2;
	}
	size_t ntable;
	insn_forms(&ntable);
	struct dt_host *host = o.host ? dt_host_open() : NULL;
	struct dt_unicorn *uc = o.unicorn ? dt_unicorn_open() : NULL;
	struct dt_ours *ours = o.ours ? dt_ours_open() : NULL;
	if (!host && !uc) {
		fprintf(stderr, "difftest: no reference (host runner or Unicorn) available\n");
		return 77;
	}
	if (o.ours && !ours)
		return 2;

	size_t bsz = BATCH;
	struct dt_case *cases = dt_host_alloc(sizeof *cases * bsz);
	struct dt_result *hres = dt_host_alloc(sizeof *hres * bsz);
	struct dt_result *ures = malloc(sizeof *ures * bsz);
	struct dt_result *ourres = malloc(sizeof *ourres * bsz);
	struct stats st;
	memset(&st, 0, sizeof st);
	st.form_bad = calloc(ntable, sizeof *st.form_bad);
	st.form_seen = calloc(ntable, sizeof *st.form_seen);
	if (!cases || !hres || !ures || !ourres || !st.form_bad || !st.form_seen) {
		fprintf(stderr, "difftest: out of memory\n");
		return 2;
	}
	char seeds[64];
	if (o.nseeds > 1)
		snprintf(seeds, sizeof seeds, "seeds %" PRIu64 "..%" PRIu64, o.seed, o.seed + o.nseeds - 1);
	else
		snprintf(seeds, sizeof seeds, "seed %" PRIu64, o.seed);
	printf("difftest: %s, cases %" PRIu64 "..%" PRIu64 "%s, %zu forms%s%s%s, references:%s%s%s\n",
	       seeds, o.first, o.first + o.count - 1, o.nseeds > 1 ? " of each" : "", dt_gen_nforms(G),
	       filter && *filter ? " (DIFFTEST_FORMS=" : "", filter && *filter ? filter : "",
	       filter && *filter ? ")" : "",
	       host ? " host" : "", uc ? " unicorn" : "", ours ? " (testing ours)" : " (ours off)");

	uint64_t t0 = now_ns();
	for (uint64_t si = 0; si < o.nseeds; si++)
	for (uint64_t base = 0, seed = o.seed + si; base < o.count; base += bsz) {
		size_t n = o.count - base < bsz ? (size_t)(o.count - base) : bsz;
		for (size_t i = 0; i < n; i++) {
			dt_gen_case(G, seed, o.first + base + i, &cases[i]);
			for (unsigned k = 0; k < cases[i].ninsns; k++)
				if (cases[i].insn_form[k] >= 0)
					st.form_seen[cases[i].insn_form[k]]++;
		}
		if (host && dt_host_start(host, cases, hres, n)) {
			fprintf(stderr, "difftest: host runner failed to start\n");
			return 2;
		}
		for (size_t i = 0; i < n; i++) {
			if (uc && !cases[i].uc_skip)
				dt_unicorn_run(uc, &cases[i], &ures[i]);
			if (ours)
				dt_ours_run(ours, &cases[i], &ourres[i]);
		}
		if (host && dt_host_wait(host)) {
			fprintf(stderr, "difftest: host runner failed\n");
			return 2;
		}
		for (size_t i = 0; i < n; i++) {
			const struct dt_case *c = &cases[i];
			uint64_t index = o.first + base + i;
			const struct dt_result *ref = host ? &hres[i] : &ures[i];
			const struct dt_result *u = uc && !c->uc_skip ? &ures[i] : NULL;
			const struct dt_result *me = ours ? &ourres[i] : NULL;
			if (!host && !u) {
				/* Unicorn is the reference and cannot judge this
				 * case (docs/difftest.md). */
				st.unjudged++;
				continue;
			}
#ifdef __SANITIZE_ADDRESS__
			/* Under ASan the host child has memory at addresses a
			 * plain process leaves unmapped (shadow and allocator
			 * regions), so a random address that faults for us may
			 * not fault there: such a case cannot be judged. */
			if (host && me && me->vector == 14 && ref->vector != 14 &&
			    (me->fault_addr < DT_CODE || me->fault_addr >= DT_SCRATCH + DT_PAGE)) {
				st.unjudged++;
				continue;
			}
#endif
			st.cases++;
			if (c->expect_vector != DT_VEC_NONE)
				st.faults_expected++;
			if (ref->vector >= 0)
				st.faults_seen++;
			if (uc && c->uc_skip)
				st.uc_skipped++;
			unsigned dm = me ? compare(c, ref, me, !host) : 0;
			unsigned du = host && u ? compare(c, ref, u, true) : 0;
			if (dm) {
				st.ours_bad++;
				if (st.nblame < MAX_BLAME) {
					st.blame_seed[st.nblame] = seed;
					st.blame_list[st.nblame++] = index;
				}
			}
			if (du)
				st.uc_bad++;
			if (dm && st.reported < o.report) {
				st.reported++;
				report(seed, c, index, me, host ? &hres[i] : NULL, u,
				       host ? "ours vs host" : "ours vs unicorn", dm);
			} else if (!dm && du && st.uc_reported < (o.index >= 0 ? 1u : 3u)) {
				st.uc_reported++;
				report(seed, c, index, me, &hres[i], u, "(a Unicorn deviation, not a failure) unicorn vs host", du);
			} else if (o.verbose && !dm && !du) {
				printf("case %" PRIu64 " agrees\n", index);
				disasm_case(c, stdout);
			}
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;

	if (ours && host)
		blame(&st, &o, G, host, ours);
	printf("difftest: %" PRIu64 " cases in %.1f s; %" PRIu64 " ended in an exception (%" PRIu64
	       " deliberately)\n", st.cases, secs, st.faults_seen, st.faults_expected);
	if (ours)
		printf("difftest: ours vs %s: %" PRIu64 " mismatching cases\n", host ? "host" : "unicorn", st.ours_bad);
	if (st.unjudged)
		printf("difftest: %" PRIu64 " cases not judged: no reference could (%s; docs/difftest.md)\n",
		       st.unjudged, host ? "a fault address the sanitized host process has memory at"
					 : "Unicorn is the only reference and cannot model them");
	if (uc && host)
		printf("difftest: unicorn vs host: %" PRIu64 " deviations, not failures (%" PRIu64
		       " cases not run on unicorn: known deviations, see docs/difftest.md)\n",
		       st.uc_bad, st.uc_skipped);
	bool any = false;
	for (size_t f = 0; f < ntable; f++) {
		if (!st.form_bad[f])
			continue;
		if (!any)
			printf("difftest: first failing instruction of the first %u mismatches, by form:\n", st.nblame);
		any = true;
		const struct insn_form *fm = dt_gen_form((int)f);
		printf("  %5u of %6u  #%zu %s %s\n", st.form_bad[f], st.form_seen[f], f, fm->mnemonic, fm->operands);
	}
	unsigned never = 0;
	for (size_t f = 0; f < ntable; f++) {
		const struct insn_form *fm = dt_gen_form((int)f);
		if (!(fm->attr & INSN_NOTEST) && !st.form_seen[f] && (!filter || !*filter))
			never++;
	}
	if (never)
		printf("difftest: %u testable forms were never drawn (raise --count)\n", never);

	dt_host_close(host);
	dt_unicorn_close(uc);
	dt_ours_close(ours);
	dt_gen_free(G);
	cs_close(&cs);
	dt_host_free(cases, sizeof *cases * bsz);
	dt_host_free(hres, sizeof *hres * bsz);
	free(ures);
	free(ourres);
	free(st.form_bad);
	free(st.form_seen);
	/* With the host as the reference, Unicorn is a second opinion: its
	 * deviations are reported, not failures. */
	return st.ours_bad ? 1 : 0;
}
