/* tests/guests/pmcheck.c: checks a crash state of tests/guests/pmpattern.c
 * against the x86 persistence rules (docs/crash-model.md).
 *
 *     pmcheck window DESC CSV
 *         prints "FIRST LAST": the persistence events before the script's
 *         first step and after its last one.  A power failure after any
 *         event in [FIRST, LAST] is a crash state of the script.
 *     pmcheck check DESC CSV N DOMAIN POLICY TEARING IMAGE
 *         checks IMAGE, left by a power failure right after event N under
 *         pmem.persistence_domain DOMAIN (adr, eadr, none), power.policy
 *         POLICY (strict, lenient, random) and power.tearing TEARING (0, 1).
 *         Prints one line per violation and exits 1, or prints the state's
 *         signature (a hash of the lines the script uses) and exits 0.
 *
 * DESC is the kernel's serial output ("pm: step K OP LINE WORD V0 V1"), CSV
 * the trace of a run without power failure exported as CSV (`phantom-sim
 * trace export --format csv`): its workload_op markers tell which
 * persistence events each step caused.  Each step must cause exactly the
 * events its instruction implies (one, or none for lfence), which checks
 * the simulator's event accounting as a side effect.
 *
 * The legal states are computed here from the rules, independently of
 * machine/persist.c: each line keeps whole snapshots of its versions since
 * its guaranteed one, and the policy picks among them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE            64
#define WORDS           (LINE / 8)
#define MAX_STEPS       128
#define MAX_LINES       64
#define MAX_VERS        (MAX_STEPS + 1)
#define MARK_NAME       "op112"

enum op {
	OP_ST, OP_NT, OP_NT16, OP_CLWB, OP_CLFLUSHOPT, OP_CLFLUSH,
	OP_SFENCE, OP_MFENCE, OP_LFENCE, OP_LOCKED, OP_XCHG, OP_CPUID, OP_IO, OP_KINDS
};
static const char *const op_name[OP_KINDS] = {
	"st", "nt", "nt16", "clwb", "clflushopt", "clflush",
	"sfence", "mfence", "lfence", "locked", "xchg", "cpuid", "io",
};

enum domain { D_NONE, D_ADR, D_EADR };
enum policy { P_STRICT, P_LENIENT, P_RANDOM };

struct step {
	enum op op;
	unsigned line, word;
	uint64_t v0, v1;
};

static struct step steps[MAX_STEPS];
static unsigned nsteps;
/* events_at[k]: persistence events so far when step k's marker was
 * emitted; events_at[nsteps]: at the end marker. */
static uint64_t events_at[MAX_STEPS + 1];

static void die(const char *fmt, const char *a)
{
	fprintf(stderr, "pmcheck: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	exit(2);
}

static void read_desc(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: cannot read the description", path);
	char buf[256], name[32];
	unsigned k, line, word;
	unsigned long long v0, v1;
	while (fgets(buf, sizeof buf, f)) {
		if (sscanf(buf, "pm: step %u %31s %u %u %llx %llx", &k, name, &line, &word, &v0, &v1) != 6)
			continue;
		if (k != nsteps || k >= MAX_STEPS || line >= MAX_LINES || word >= WORDS)
			die("%s: steps out of order or out of range", path);
		int o = -1;
		for (int i = 0; i < OP_KINDS; i++)
			if (!strcmp(name, op_name[i]))
				o = i;
		if (o < 0)
			die("%s: unknown step kind", path);
		steps[nsteps++] = (struct step){(enum op)o, line, word, v0, v1};
	}
	fclose(f);
	if (!nsteps)
		die("%s: no \"pm: step\" lines", path);
}

/* Events each kind of step causes: one instruction, one event; lfence
 * orders nothing and is no event. */
static unsigned events_of(enum op o)
{
	return o == OP_LFENCE ? 0 : 1;
}

static void read_csv(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: cannot read the trace CSV", path);
	char buf[512];
	uint64_t events = 0;
	unsigned seen = 0;
	while (fgets(buf, sizeof buf, f)) {
		/* seq,time_ps,time_us,type,arg1,arg2,arg3,arg4,name */
		char *field[9] = {0};
		unsigned n = 0;
		for (char *p = buf, *q; n < 9; p = q + 1) {
			field[n++] = p;
			q = strchr(p, ',');
			if (!q) {
				p[strcspn(p, "\r\n")] = 0;
				break;
			}
			*q = 0;
		}
		if (n < 9)
			continue;
		const char *type = field[3];
		if (!strcmp(type, "pm_store") || !strcmp(type, "flush") || !strcmp(type, "fence") ||
		    !strcmp(type, "blk_write") || !strcmp(type, "blk_flush")) {
			events++;
		} else if (!strcmp(type, "workload_op") && !strcmp(field[8], MARK_NAME)) {
			unsigned k = (unsigned)strtoul(field[4], NULL, 10);
			if (k != seen || k > nsteps)
				die("%s: markers out of order", path);
			events_at[seen++] = events;
		}
	}
	fclose(f);
	if (seen != nsteps + 1)
		die("%s: the trace does not hold every step's marker", path);
	for (unsigned k = 0; k < nsteps; k++) {
		uint64_t got = events_at[k + 1] - events_at[k];
		if (got != events_of(steps[k].op)) {
			fprintf(stderr, "pmcheck: step %u (%s) caused %llu persistence events, expected %u\n",
				k, op_name[steps[k].op], (unsigned long long)got, events_of(steps[k].op));
			exit(1);
		}
	}
}

/* --- The rules, per line --------------------------------------------- */

struct line {
	uint8_t v[MAX_VERS][LINE];      /* v[0] guaranteed, v[n] what the CPU sees */
	unsigned n;
	unsigned target;                /* version the next fence guarantees; 0 none */
	bool used;
};

static struct line lines[MAX_LINES];

static void guarantee(struct line *l, unsigned k)
{
	if (!k)
		return;
	memmove(l->v[0], l->v[k], (l->n - k + 1) * (size_t)LINE);
	l->n -= k;
	l->target = l->target > k ? l->target - k : 0;
}

static void store(struct line *l, unsigned word, const uint64_t *vals, unsigned nwords)
{
	l->used = true;
	memcpy(l->v[l->n + 1], l->v[l->n], LINE);
	memcpy(l->v[l->n + 1] + word * 8, vals, nwords * 8u);
	l->n++;
}

static void apply(const struct step *s, enum domain d)
{
	struct line *l = &lines[s->line];
	uint64_t vals[2] = {s->v0, s->v1};
	switch (s->op) {
	case OP_ST:
		store(l, s->word, vals, 1);
		/* eADR: the caches are persistent, so a completed store is
		 * guaranteed, with every older version of its line. */
		if (d == D_EADR)
			guarantee(l, l->n);
		break;
	case OP_NT:
	case OP_NT16:
		/* Write-combined: pending until a fence, in every domain. */
		store(l, s->word, vals, s->op == OP_NT16 ? 2 : 1);
		if (d != D_NONE)
			l->target = l->n;
		break;
	case OP_CLWB:
	case OP_CLFLUSHOPT:
		/* Guaranteed at the next fence; captures the stores so far. */
		if (d == D_ADR && l->n)
			l->target = l->n;
		break;
	case OP_CLFLUSH:
		if (d == D_ADR)
			guarantee(l, l->n);
		break;
	case OP_LFENCE:
		break;
	default:        /* sfence, mfence, locked, xchg, cpuid, I/O */
		if (d != D_NONE)
			for (unsigned i = 0; i < MAX_LINES; i++)
				if (lines[i].target)
					guarantee(&lines[i], lines[i].target);
		break;
	}
}

static int word_in_some_version(const struct line *l, const uint8_t *got, unsigned w)
{
	for (unsigned k = 0; k <= l->n; k++)
		if (!memcmp(l->v[k] + w * 8, got + w * 8, 8))
			return (int)k;
	return -1;
}

static void print_line(const char *what, const uint8_t *b)
{
	fprintf(stderr, "    %-9s", what);
	for (unsigned w = 0; w < WORDS; w++) {
		uint64_t v;
		memcpy(&v, b + w * 8, 8);
		fprintf(stderr, " %llx", (unsigned long long)v);
	}
	fputc('\n', stderr);
}

/* Whether got is a legal crash state of line l under the policy. */
static bool legal(const struct line *l, const uint8_t *got, enum policy p, bool tearing)
{
	switch (p) {
	case P_STRICT:
		return !memcmp(got, l->v[0], LINE);
	case P_LENIENT:
		return !memcmp(got, l->v[l->n], LINE);
	case P_RANDOM:
		break;
	}
	if (!tearing) {
		/* The line is written back whole, and same-line write-backs
		 * land in order: the state is one version, never a later
		 * store without an earlier one. */
		for (unsigned k = 0; k <= l->n; k++)
			if (!memcmp(got, l->v[k], LINE))
				return true;
		return false;
	}
	/* Torn: each aligned 8-byte word from some version. */
	for (unsigned w = 0; w < WORDS; w++)
		if (word_in_some_version(l, got, w) < 0)
			return false;
	return true;
}

static int parse_enum(const char *s, const char *const *names, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	die("unknown %s", what);
	return -1;
}

static int check(int argc, char **argv)
{
	static const char *const dn[] = {"none", "adr", "eadr"};
	static const char *const pn[] = {"strict", "lenient", "random"};
	if (argc != 7)
		die("%s", "usage: pmcheck check DESC CSV N DOMAIN POLICY TEARING IMAGE");
	uint64_t n = strtoull(argv[2], NULL, 10);
	enum domain d = (enum domain)parse_enum(argv[3], dn, 3, "domain");
	enum policy p = (enum policy)parse_enum(argv[4], pn, 3, "policy");
	bool tearing = argv[5][0] == '1';
	const char *image = argv[6];

	unsigned done = 0;
	while (done < nsteps && events_at[done + 1] <= n)
		apply(&steps[done++], d);

	int fd = open(image, O_RDONLY);
	if (fd < 0)
		die("%s: cannot open the image", image);
	/* Every line the script never touched must still be zero: read the
	 * first lines, then scan the rest of the (sparse) image. */
	uint8_t img[MAX_LINES * LINE];
	ssize_t got = pread(fd, img, sizeof img, 0);
	if (got != (ssize_t)sizeof img)
		die("%s: image too short", image);
	int bad = 0;
	static uint8_t buf[1 << 16];
	off_t off = sizeof img;
	for (ssize_t r; (r = pread(fd, buf, sizeof buf, off)) > 0; off += r)
		for (ssize_t i = 0; i < r; i++)
			if (buf[i]) {
				fprintf(stderr, "pmcheck: N=%llu: byte 0x%llx outside the script's lines is %02x\n",
					(unsigned long long)n, (unsigned long long)(off + i), buf[i]);
				bad = 1;
				break;
			}
	close(fd);

	uint64_t sig = 0xcbf29ce484222325ull;
	for (unsigned i = 0; i < MAX_LINES; i++) {
		const struct line *l = &lines[i];
		const uint8_t *b = img + i * LINE;
		for (unsigned j = 0; j < LINE; j++)
			sig = (sig ^ b[j]) * 0x100000001b3ull;
		if (legal(l, b, p, tearing))
			continue;
		bad = 1;
		fprintf(stderr, "pmcheck: N=%llu (%u of %u steps done), %s %s%s: line %u holds an illegal state\n",
			(unsigned long long)n, done, nsteps, dn[d], pn[p], tearing ? " torn" : "", i);
		print_line("image:", b);
		for (unsigned k = 0; k <= l->n; k++) {
			char what[16];
			snprintf(what, sizeof what, "v%u:", k);
			print_line(what, l->v[k]);
		}
	}
	if (bad)
		return 1;
	printf("%016llx\n", (unsigned long long)sig);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("%s", "usage: pmcheck window DESC CSV | pmcheck check DESC CSV N DOMAIN POLICY TEARING IMAGE");
	read_desc(argv[2]);
	read_csv(argv[3]);
	if (!strcmp(argv[1], "window")) {
		printf("%llu %llu\n", (unsigned long long)events_at[0],
		       (unsigned long long)events_at[nsteps]);
		return 0;
	}
	if (!strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	die("unknown command %s", argv[1]);
	return 2;
}
