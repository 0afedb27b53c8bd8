/* sim/config.c: the config schema and everything driven by it.
 *
 * Each key appears once in `schema` below.  Parsing walks the JSON tree and
 * looks every leaf up there, so unknown keys, wrong types and out-of-range
 * values are all caught in one place, with the same messages for files and
 * for --set.  Numbers are integers in the unit named by the key; addresses
 * may also be written as "0x..." strings, since JSON numbers lose precision
 * beyond 2^53.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "sim/config.h"

enum ktype { K_BOOL, K_U64, K_ADDR, K_STR, K_ENUM };

struct key {
	const char *path;
	enum ktype type;
	size_t off;
	uint64_t min, max;              /* K_U64, K_ADDR */
	const char *const *choices;     /* K_ENUM, NULL-terminated */
	uint64_t def;                   /* K_BOOL, K_U64, K_ADDR, K_ENUM */
	const char *sdef;               /* K_STR */
};

static const char *const timings[] = {"fast", "approximate", NULL};
static const char *const triple[] = {"halt", "reset", NULL};
static const char *const domains[] = {"none", "adr", "eadr", NULL};
static const char *const kinds[] = {"virtio-blk", "nvme", NULL};
static const char *const presets[] = {"nvme", "nvme-consumer", "sata", NULL};
static const char *const policies[] = {"strict", "lenient", "random", NULL};
static const char *const fail_kinds[] = {"never", "time_us", "insn", "event", NULL};
static const char *const afters[] = {"reboot", "stop", NULL};

#define OFF(f) offsetof(struct config, f)
#define GiB (1ULL << 30)
/* The largest integer a JSON number carries exactly. */
#define JSON_INT_MAX ((1ULL << 53) - 1)

static const struct key schema[] = {
	{"run.seed", K_U64, OFF(run.seed), 0, JSON_INT_MAX, NULL, 1, NULL},
	{"run.max_time_us", K_U64, OFF(run.max_time_us), 0, 1000ULL * 1000 * 1000 * 3600, NULL, 0, NULL},
	{"run.max_insns", K_U64, OFF(run.max_insns), 0, JSON_INT_MAX, NULL, 0, NULL},

	{"cpu.freq_mhz", K_U64, OFF(cpu.freq_mhz), 1, 10000, NULL, 2200, NULL},
	{"cpu.timing", K_ENUM, OFF(cpu.timing), 0, 0, timings, TIMING_FAST, NULL},
	{"cpu.triple_fault", K_ENUM, OFF(cpu.triple_fault), 0, 0, triple, TRIPLE_FAULT_HALT, NULL},

	{"memory.dram_mb", K_U64, OFF(memory.dram_mb), 2, 64 * 1024, NULL, 256, NULL},
	{"memory.channels", K_U64, OFF(memory.channels), 1, 8, NULL, 6, NULL},

	/* Xeon Platinum 8260 (Cascade Lake); docs/timing.md. */
	{"cache.l1i.size_kb", K_U64, OFF(l1i.size_kb), 1, 1024, NULL, 32, NULL},
	{"cache.l1i.ways", K_U64, OFF(l1i.ways), 1, 64, NULL, 8, NULL},
	{"cache.l1i.latency", K_U64, OFF(l1i.latency), 1, 100, NULL, 4, NULL},
	{"cache.l1d.size_kb", K_U64, OFF(l1d.size_kb), 1, 1024, NULL, 32, NULL},
	{"cache.l1d.ways", K_U64, OFF(l1d.ways), 1, 64, NULL, 8, NULL},
	{"cache.l1d.latency", K_U64, OFF(l1d.latency), 1, 100, NULL, 4, NULL},
	{"cache.l2.size_kb", K_U64, OFF(l2.size_kb), 1, 65536, NULL, 1024, NULL},
	{"cache.l2.ways", K_U64, OFF(l2.ways), 1, 64, NULL, 16, NULL},
	{"cache.l2.latency", K_U64, OFF(l2.latency), 1, 200, NULL, 14, NULL},
	{"cache.llc.size_kb", K_U64, OFF(llc.size_kb), 1, 1 << 20, NULL, 22528, NULL},
	{"cache.llc.ways", K_U64, OFF(llc.ways), 1, 64, NULL, 11, NULL},
	{"cache.llc.latency", K_U64, OFF(llc.latency), 1, 500, NULL, 50, NULL},
	{"cache.fill_buffers", K_U64, OFF(cache.fill_buffers), 1, 32, NULL, 10, NULL},
	{"cache.prefetch_degree", K_U64, OFF(cache.prefetch_degree), 0, 64, NULL, 16, NULL},

	{"pmem.enabled", K_BOOL, OFF(pmem.enabled), 0, 0, NULL, 0, NULL},
	{"pmem.base", K_ADDR, OFF(pmem.base), 0, (1ULL << 46), NULL, 0x100000000ULL, NULL},
	{"pmem.size_mb", K_U64, OFF(pmem.size_mb), 1, 6 * 256 * 1024, NULL, 256, NULL},
	{"pmem.image", K_STR, OFF(pmem.image), 0, 0, NULL, 0, "pmem.img"},
	{"pmem.persistence_domain", K_ENUM, OFF(pmem.persistence_domain), 0, 0, domains, PDOMAIN_ADR, NULL},
	{"pmem.dimms", K_U64, OFF(pmem.dimms), 1, 12, NULL, 6, NULL},
	{"pmem.interleave_bytes", K_U64, OFF(pmem.interleave_bytes), 256, 1ULL << 20, NULL, 4096, NULL},
	{"pmem.poison", K_STR, OFF(pmem.poison), 0, 0, NULL, 0, ""},

	{"block.enabled", K_BOOL, OFF(block.enabled), 0, 0, NULL, 0, NULL},
	{"block.kind", K_ENUM, OFF(block.kind), 0, 0, kinds, BLOCK_VIRTIO, NULL},
	{"block.preset", K_ENUM, OFF(block.preset), 0, 0, presets, BLOCK_PRESET_NVME, NULL},
	{"block.image", K_STR, OFF(block.image), 0, 0, NULL, 0, "disk.img"},
	{"block.size_mb", K_U64, OFF(block.size_mb), 1, 16 * 1024 * 1024, NULL, 256, NULL},
	{"block.sector_size", K_U64, OFF(block.sector_size), 512, 4096, NULL, 512, NULL},
	{"block.atomic_write_bytes", K_U64, OFF(block.atomic_write_bytes), 512, 4096, NULL, 4096, NULL},
	{"block.volatile_cache", K_BOOL, OFF(block.volatile_cache), 0, 0, NULL, 1, NULL},

	{"guest.kernel", K_STR, OFF(guest.kernel), 0, 0, NULL, 0, ""},
	{"guest.cmdline", K_STR, OFF(guest.cmdline), 0, 0, NULL, 0, ""},

	{"serial.output", K_STR, OFF(serial.output), 0, 0, NULL, 0, "stdio"},
	{"serial.input", K_STR, OFF(serial.input), 0, 0, NULL, 0, "none"},

	{"rtc.epoch", K_U64, OFF(rtc.epoch), 0, 253402300799ULL, NULL, 1767225600, NULL},

	{"power.policy", K_ENUM, OFF(power.policy), 0, 0, policies, POLICY_STRICT, NULL},
	{"power.tearing", K_BOOL, OFF(power.tearing), 0, 0, NULL, 0, NULL},
	{"power.fail_kind", K_ENUM, OFF(power.fail_kind), 0, 0, fail_kinds, FAIL_NEVER, NULL},
	{"power.fail_at", K_U64, OFF(power.fail_at), 0, JSON_INT_MAX, NULL, 0, NULL},
	{"power.fail_random", K_BOOL, OFF(power.fail_random), 0, 0, NULL, 0, NULL},
	{"power.after", K_ENUM, OFF(power.after), 0, 0, afters, AFTER_REBOOT, NULL},

	{"trace.file", K_STR, OFF(trace.file), 0, 0, NULL, 0, ""},
	{"trace.insn", K_BOOL, OFF(trace.insn), 0, 0, NULL, 0, NULL},
	{"trace.insn_from", K_ADDR, OFF(trace.insn_from), 0, UINT64_MAX, NULL, 0, NULL},
	{"trace.insn_to", K_ADDR, OFF(trace.insn_to), 0, UINT64_MAX, NULL, 0, NULL},
};

#define NKEYS (sizeof schema / sizeof schema[0])

static void *field(struct config *cfg, const struct key *k)
{
	return (char *)cfg + k->off;
}

static const void *cfield(const struct config *cfg, const struct key *k)
{
	return (const char *)cfg + k->off;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct key *lookup(const char *path)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(schema[i].path, path) == 0)
			return &schema[i];
	return NULL;
}

/* Is `prefix` a section, i.e. do keys named "prefix.*" exist? */
static bool is_section(const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(schema[i].path, prefix, n) == 0 && schema[i].path[n] == '.')
			return true;
	return false;
}

static void set_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		abort();
	free(*slot);
	*slot = copy;
}

void config_defaults(struct config *cfg)
{
	*cfg = (struct config){0};
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &schema[i];
		void *f = field(cfg, k);
		switch (k->type) {
		case K_BOOL: *(bool *)f = k->def; break;
		case K_U64:
		case K_ADDR: *(uint64_t *)f = k->def; break;
		case K_ENUM: *(unsigned *)f = (unsigned)k->def; break;
		case K_STR: set_string(f, k->sdef); break;
		}
	}
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (schema[i].type == K_STR)
			free(*(char **)field(cfg, &schema[i]));
	free(cfg->source);
	*cfg = (struct config){0};
}

/* What a key accepts, for error messages. */
static void expected(const struct key *k, char *buf, size_t len)
{
	switch (k->type) {
	case K_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case K_U64:
		snprintf(buf, len, "an integer from %" PRIu64 " to %" PRIu64, k->min, k->max);
		break;
	case K_ADDR:
		snprintf(buf, len, "an address from 0x%" PRIx64 " to 0x%" PRIx64
			 " (integer or \"0x...\" string)", k->min, k->max);
		break;
	case K_STR:
		snprintf(buf, len, "a string");
		break;
	case K_ENUM: {
		size_t used = snprintf(buf, len, "one of");
		for (const char *const *c = k->choices; *c && used < len; c++)
			used += snprintf(buf + used, len - used, "%s \"%s\"",
					 c == k->choices ? "" : ",", *c);
		break;
	}
	}
}

static int bad_value(const char *where, const struct key *k, const char *got,
		     char *err, size_t errlen)
{
	char what[256];
	expected(k, what, sizeof what);
	return fail(err, errlen, "%s: %s: expected %s, got %s", where, k->path, what, got);
}

/* Parse an unsigned integer written in decimal or 0x-hex, whole string. */
static bool parse_u64(const char *s, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int store_u64(struct config *cfg, const struct key *k, uint64_t v,
		     const char *where, const char *got, char *err, size_t errlen)
{
	if (v < k->min || v > k->max)
		return bad_value(where, k, got, err, errlen);
	*(uint64_t *)field(cfg, k) = v;
	return 0;
}

static int store_enum(struct config *cfg, const struct key *k, const char *s,
		      const char *where, const char *got, char *err, size_t errlen)
{
	for (unsigned i = 0; k->choices[i]; i++) {
		if (strcmp(k->choices[i], s) == 0) {
			*(unsigned *)field(cfg, k) = i;
			return 0;
		}
	}
	return bad_value(where, k, got, err, errlen);
}

/* A short, printable rendering of a JSON value for messages. */
static void describe(const cJSON *v, char *buf, size_t len)
{
	char *text = cJSON_PrintUnformatted(v);
	if (!text) {
		snprintf(buf, len, "(unprintable)");
		return;
	}
	if (strlen(text) > 60)
		strcpy(text + 57, "...");
	snprintf(buf, len, "%s", text);
	free(text);
}

static int apply_json(struct config *cfg, const struct key *k, const cJSON *v,
		      const char *where, char *err, size_t errlen)
{
	char got[96];
	describe(v, got, sizeof got);
	switch (k->type) {
	case K_BOOL:
		if (!cJSON_IsBool(v))
			return bad_value(where, k, got, err, errlen);
		*(bool *)field(cfg, k) = cJSON_IsTrue(v);
		return 0;
	case K_STR:
		if (!cJSON_IsString(v))
			return bad_value(where, k, got, err, errlen);
		set_string(field(cfg, k), v->valuestring);
		return 0;
	case K_ENUM:
		if (!cJSON_IsString(v))
			return bad_value(where, k, got, err, errlen);
		return store_enum(cfg, k, v->valuestring, where, got, err, errlen);
	case K_U64:
	case K_ADDR: {
		uint64_t u;
		if (cJSON_IsNumber(v)) {
			double d = v->valuedouble;
			if (d < 0 || d > (double)JSON_INT_MAX || d != (double)(uint64_t)d)
				return bad_value(where, k, got, err, errlen);
			u = (uint64_t)d;
		} else if (k->type == K_ADDR && cJSON_IsString(v) &&
			   strncmp(v->valuestring, "0x", 2) == 0 &&
			   parse_u64(v->valuestring, &u)) {
			/* hex string: accepted for addresses only */
		} else {
			return bad_value(where, k, got, err, errlen);
		}
		return store_u64(cfg, k, u, where, got, err, errlen);
	}
	}
	return -1;
}

static int apply_object(struct config *cfg, const cJSON *obj, const char *prefix,
			const char *where, char *err, size_t errlen)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		char path[128];
		int n = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
				 m->string);
		if (n < 0 || (size_t)n >= sizeof path)
			return fail(err, errlen, "%s: key path too long: %.60s...", where, path);
		const struct key *k = lookup(path);
		if (k) {
			if (apply_json(cfg, k, m, where, err, errlen))
				return -1;
		} else if (is_section(path)) {
			if (!cJSON_IsObject(m))
				return fail(err, errlen, "%s: %s: expected an object (a section of keys)",
					    where, path);
			if (apply_object(cfg, m, path, where, err, errlen))
				return -1;
		} else {
			return fail(err, errlen, "%s: %s: unknown key (see docs/config.md)",
				    where, path);
		}
	}
	return 0;
}

/* Line and column of a position in text, for parse errors. */
static void position(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			abort();
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		if (cap > (16u << 20)) {
			fclose(f);
			free(buf);
			fail(err, errlen, "%s: larger than 16 MiB; not a config file", path);
			return NULL;
		}
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		fail(err, errlen, "%s: read error", path);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	config_defaults(cfg);
	set_string(&cfg->source, path);
	size_t len;
	char *text = read_file(path, &len, err, errlen);
	if (!text)
		return -1;
	if (strlen(text) != len) {
		free(text);
		return fail(err, errlen, "%s: contains a NUL byte; expected JSON text", path);
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!root) {
		int line, col;
		position(text, end ? end : text, &line, &col);
		free(text);
		return fail(err, errlen, "%s:%d:%d: malformed JSON", path, line, col);
	}
	int rc;
	if (!cJSON_IsObject(root))
		rc = fail(err, errlen, "%s: expected a JSON object at the top level", path);
	else
		rc = apply_object(cfg, root, "", path, err, errlen);
	cJSON_Delete(root);
	free(text);
	if (rc == 0)
		rc = config_check(cfg, err, errlen);
	return rc;
}

int config_set(struct config *cfg, const char *assignment, char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return fail(err, errlen, "--set %s: expected KEY.PATH=VALUE", assignment);
	char path[128];
	size_t n = (size_t)(eq - assignment);
	if (n >= sizeof path)
		return fail(err, errlen, "--set: key path too long");
	memcpy(path, assignment, n);
	path[n] = 0;
	const char *value = eq + 1;
	const struct key *k = lookup(path);
	if (!k)
		return fail(err, errlen, "--set: %s: unknown key (see docs/config.md)", path);

	char got[96];
	snprintf(got, sizeof got, "\"%.60s\"", value);
	switch (k->type) {
	case K_BOOL:
		if (strcmp(value, "true") && strcmp(value, "false"))
			return bad_value("--set", k, got, err, errlen);
		*(bool *)field(cfg, k) = strcmp(value, "true") == 0;
		break;
	case K_STR:
		set_string(field(cfg, k), value);
		break;
	case K_ENUM:
		if (store_enum(cfg, k, value, "--set", got, err, errlen))
			return -1;
		break;
	case K_U64:
	case K_ADDR: {
		uint64_t u;
		if (!parse_u64(value, &u))
			return bad_value("--set", k, got, err, errlen);
		if (store_u64(cfg, k, u, "--set", got, err, errlen))
			return -1;
		break;
	}
	}
	return config_check(cfg, err, errlen);
}

int config_pmem_poison(const struct config *cfg, uint64_t *out, size_t *n, char *err, size_t errlen)
{
	const char *src = cfg->source ? cfg->source : "config";
	const char *p = cfg->pmem.poison ? cfg->pmem.poison : "";
	uint64_t base = cfg->pmem.base, end = base + (cfg->pmem.size_mb << 20);
	size_t count = 0;
	*n = 0;
	if (!*p)
		return 0;
	if (!cfg->pmem.enabled)
		return fail(err, errlen, "%s: pmem.poison: expected no poisoned lines without "
			    "persistent memory (pmem.enabled = false), got \"%s\"", src, p);
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char tok[64];
		uint64_t a;
		bool ok = len > 0 && len < sizeof tok;
		if (ok) {
			memcpy(tok, p, len);
			tok[len] = 0;
			ok = parse_u64(tok, &a) && a >= base && a < end;
		}
		if (!ok)
			return fail(err, errlen, "%s: pmem.poison: expected comma-separated physical "
				    "addresses in persistent memory [0x%" PRIx64 ", 0x%" PRIx64 "), got \"%.*s\"",
				    src, base, end, (int)(len < 40 ? len : 40), p);
		if (count == CONFIG_POISON_MAX)
			return fail(err, errlen, "%s: pmem.poison: expected at most %d addresses",
				    src, CONFIG_POISON_MAX);
		if (out)
			out[count] = a;
		count++;
		p += len;
		if (*p == ',' && !*++p)
			return fail(err, errlen, "%s: pmem.poison: expected an address after the last comma",
				    src);
	}
	*n = count;
	return 0;
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
	const char *src = cfg->source ? cfg->source : "config";
	uint64_t dram = cfg->memory.dram_mb << 20;
	if (cfg->pmem.enabled) {
		uint64_t base = cfg->pmem.base, size = cfg->pmem.size_mb << 20;
		if (base & ((2u << 20) - 1))
			return fail(err, errlen, "%s: pmem.base: expected a multiple of 2 MiB, got 0x%" PRIx64,
				    src, base);
		/* DRAM sits below 3 GiB and, past that, from 4 GiB up; the hole
		 * between holds MMIO.  PM must stay clear of all of it. */
		uint64_t dram_top = dram <= 3 * GiB ? dram : 4 * GiB + (dram - 3 * GiB);
		if (base < dram_top || (base < 4 * GiB && base + size > 3 * GiB))
			return fail(err, errlen, "%s: pmem.base: expected an address above DRAM "
				    "(0x%" PRIx64 ") and outside the 3-4 GiB MMIO hole, got 0x%" PRIx64,
				    src, dram_top, base);
		if (!cfg->pmem.image[0])
			return fail(err, errlen, "%s: pmem.image: expected a file name for the persistent image", src);
		if (cfg->pmem.interleave_bytes & (cfg->pmem.interleave_bytes - 1))
			return fail(err, errlen, "%s: pmem.interleave_bytes: expected a power of two, got %" PRIu64,
				    src, cfg->pmem.interleave_bytes);
	}
	size_t npoison;
	if (config_pmem_poison(cfg, NULL, &npoison, err, errlen))
		return -1;
	if (cfg->power.fail_kind != FAIL_NEVER && cfg->power.fail_at == 0)
		return fail(err, errlen, "%s: power.fail_at: expected a positive point for power.fail_kind \"%s\"",
			    src, fail_kinds[cfg->power.fail_kind]);
	/* L1 and L2 use tree-PLRU (power-of-two ways), the LLC true LRU. */
	const struct { const char *name; const struct cache_level_config *c; bool plru; } lv[] = {
		{"l1i", &cfg->l1i, true}, {"l1d", &cfg->l1d, true}, {"l2", &cfg->l2, true},
		{"llc", &cfg->llc, false},
	};
	for (size_t k = 0; k < sizeof lv / sizeof lv[0]; k++) {
		uint64_t bytes = lv[k].c->size_kb * 1024, ways = lv[k].c->ways;
		uint64_t sets = bytes / (ways * 64);
		if (bytes % (ways * 64) || (sets & (sets - 1)))
			return fail(err, errlen, "%s: cache.%s.size_kb: expected ways * 64 bytes times a "
				    "power of two (%" PRIu64 " ways), got %" PRIu64, src, lv[k].name, ways,
				    lv[k].c->size_kb);
		if (lv[k].plru && (ways & (ways - 1)))
			return fail(err, errlen, "%s: cache.%s.ways: expected a power of two (tree-PLRU), "
				    "got %" PRIu64, src, lv[k].name, ways);
	}
	uint64_t ss = cfg->block.sector_size, aw = cfg->block.atomic_write_bytes;
	if (ss != 512 && ss != 4096)
		return fail(err, errlen, "%s: block.sector_size: expected 512 or 4096, got %" PRIu64, src, ss);
	if ((aw != 512 && aw != 4096) || aw < ss)
		return fail(err, errlen, "%s: block.atomic_write_bytes: expected 512 or 4096 and at least "
			    "block.sector_size (%" PRIu64 "), got %" PRIu64, src, ss, aw);
	/* [from, to) with to = 0 meaning no upper bound; an empty range would
	 * silently record nothing. */
	if (cfg->trace.insn_to && cfg->trace.insn_to <= cfg->trace.insn_from)
		return fail(err, errlen, "%s: trace.insn_to: expected 0 (no upper bound) or an address "
			    "above trace.insn_from (0x%" PRIx64 "), got 0x%" PRIx64,
			    src, cfg->trace.insn_from, cfg->trace.insn_to);
	if (cfg->block.enabled) {
		if (!cfg->block.image[0])
			return fail(err, errlen, "%s: block.image: expected a file name for the disk image", src);
	}
	return 0;
}

const char *config_enum_name(const char *path, unsigned value)
{
	const struct key *k = lookup(path);
	if (!k || k->type != K_ENUM)
		return "?";
	for (unsigned i = 0; k->choices[i]; i++)
		if (i == value)
			return k->choices[i];
	return "?";
}

/* The section object for a dotted path, created on demand. */
static cJSON *section(cJSON *root, const char *path, const char **leaf)
{
	const char *dot = strchr(path, '.');
	char name[64];
	snprintf(name, sizeof name, "%.*s", (int)(dot - path), path);
	cJSON *s = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!s)
		s = cJSON_AddObjectToObject(root, name);
	*leaf = dot + 1;
	return s;
}

char *config_to_json(const struct config *cfg)
{
	cJSON *root = cJSON_CreateObject();
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &schema[i];
		const void *f = cfield(cfg, k);
		const char *leaf;
		cJSON *s = section(root, k->path, &leaf);
		char hex[32];
		switch (k->type) {
		case K_BOOL: cJSON_AddBoolToObject(s, leaf, *(const bool *)f); break;
		case K_U64: cJSON_AddNumberToObject(s, leaf, (double)*(const uint64_t *)f); break;
		case K_ADDR:
			snprintf(hex, sizeof hex, "0x%" PRIx64, *(const uint64_t *)f);
			cJSON_AddStringToObject(s, leaf, hex);
			break;
		case K_STR: cJSON_AddStringToObject(s, leaf, *(char *const *)f); break;
		case K_ENUM: cJSON_AddStringToObject(s, leaf, k->choices[*(const unsigned *)f]); break;
		}
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}
