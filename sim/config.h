/* sim/config.h: the machine description, parsed from JSON.
 *
 * A config file is a JSON object of sections ("cpu", "memory", "pmem", ...)
 * whose keys are listed once, with type, unit, range and default, in the
 * schema table in sim/config.c.  The same table drives parsing, --set
 * overrides, --print-config and the defaults, so a key cannot be accepted
 * in one place and unknown in another.  docs/config.md documents each key.
 *
 *     struct config cfg;
 *     char err[512];
 *     if (config_load(&cfg, "configs/optane.json", err, sizeof err) ||
 *         config_set(&cfg, "pmem.size_mb=512", err, sizeof err))
 *             fprintf(stderr, "%s\n", err), exit(2);
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum timing_mode { TIMING_FAST, TIMING_APPROXIMATE };
enum persistence_domain { PDOMAIN_NONE, PDOMAIN_ADR, PDOMAIN_EADR };
enum block_kind { BLOCK_VIRTIO, BLOCK_NVME };
enum block_preset { BLOCK_PRESET_NVME, BLOCK_PRESET_NVME_CONSUMER, BLOCK_PRESET_SATA };
enum power_policy { POLICY_STRICT, POLICY_LENIENT, POLICY_RANDOM };
enum triple_fault { TRIPLE_FAULT_HALT, TRIPLE_FAULT_RESET };
enum power_fail_at { FAIL_NEVER, FAIL_TIME_US, FAIL_INSN, FAIL_EVENT };
enum power_after { AFTER_REBOOT, AFTER_STOP };

struct config {
	char *source;                   /* file name, for messages */

	struct {
		uint64_t seed;
		uint64_t max_time_us;   /* 0 = no limit */
		uint64_t max_insns;     /* 0 = no limit */
	} run;

	struct {
		uint64_t freq_mhz;
		unsigned timing;        /* enum timing_mode */
		unsigned triple_fault;  /* enum triple_fault */
	} cpu;

	struct {
		uint64_t dram_mb;
		uint64_t channels;      /* DDR4 channels, interleaved */
	} memory;

	/* The approximate timing mode's caches (machine/memhier.h). */
	struct cache_level_config {
		uint64_t size_kb, ways, latency;        /* latency in core cycles */
	} l1i, l1d, l2, llc;
	struct {
		uint64_t fill_buffers;
		uint64_t prefetch_degree;
	} cache;

	struct {
		bool enabled;
		uint64_t base;          /* physical address, bytes */
		uint64_t size_mb;
		char *image;
		unsigned persistence_domain;    /* enum persistence_domain */
		uint64_t dimms;
		uint64_t interleave_bytes;
		char *poison;           /* "ADDR,ADDR,...": poisoned 64-byte lines */
	} pmem;

	struct {
		bool enabled;
		unsigned kind;          /* enum block_kind */
		unsigned preset;        /* enum block_preset */
		char *image;
		uint64_t size_mb;
		uint64_t sector_size;
		uint64_t atomic_write_bytes;
		bool volatile_cache;
	} block;

	struct {
		char *kernel;           /* "" = the built-in Phantom guest */
		char *cmdline;
	} guest;

	struct {
		char *output;           /* "stdio", "none" or a file name */
		char *input;            /* "none" or a file name */
	} serial;

	struct {
		uint64_t epoch;         /* seconds since 1970-01-01 UTC */
	} rtc;

	struct {
		unsigned policy;        /* enum power_policy */
		bool tearing;           /* random policy: tear 8-byte words / sectors */
		unsigned fail_kind;     /* enum power_fail_at */
		uint64_t fail_at;       /* in the unit of fail_kind */
		bool fail_random;       /* draw the point in [1, fail_at] from the seed */
		unsigned after;         /* enum power_after */
	} power;

	struct {
		char *file;             /* "" = no trace */
		bool insn;              /* record executed instructions too */
		uint64_t insn_from;     /* ... whose address is in [insn_from, insn_to) */
		uint64_t insn_to;       /* 0 = no upper bound */
	} trace;
};

/* Fill cfg with every default.  Never fails. */
void config_defaults(struct config *cfg);
/* Defaults, then the file's values.  On error returns -1 with one line in
 * err naming the file, the key path and what was expected. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
/* Apply "key.path=value" with the same validation as the file. */
int config_set(struct config *cfg, const char *assignment, char *err, size_t errlen);
/* Cross-key checks (overlapping ranges, sector sizes); -1 with err. */
int config_check(const struct config *cfg, char *err, size_t errlen);
/* pmem.poison as addresses (out may be NULL to only check; room for
 * CONFIG_POISON_MAX); -1 with one line in err if the list is bad. */
#define CONFIG_POISON_MAX 256
int config_pmem_poison(const struct config *cfg, uint64_t *out, size_t *n, char *err,
		       size_t errlen);
/* The effective config as pretty JSON (malloc'd). */
char *config_to_json(const struct config *cfg);
void config_free(struct config *cfg);

/* Names of enum values, for messages and output. */
const char *config_enum_name(const char *key, unsigned value);

#endif
