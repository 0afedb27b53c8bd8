/* sim/stats.h: the registry of named counters.
 *
 * A component asks once for a counter by dotted name and keeps the pointer,
 * so counting on the hot path is a plain increment:
 *
 *     uint64_t *unknown_io = stats_counter(&sim->stats, "bus.unknown_pio");
 *     ++*unknown_io;
 *
 * At the end of a run the counters are printed sorted by name, and written
 * as a flat JSON object with --stats FILE.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdint.h>
#include <stdio.h>

struct stat_entry {
	char *name;
	uint64_t value;
};

struct stats {
	struct stat_entry **entries;    /* pointers stay valid as it grows */
	size_t len, cap;
};

void stats_init(struct stats *s);
void stats_free(struct stats *s);
/* The counter called name, created at zero on first use. */
uint64_t *stats_counter(struct stats *s, const char *name);
/* Value of name, or 0 when it was never registered. */
uint64_t stats_get(const struct stats *s, const char *name);
void stats_print(const struct stats *s, FILE *out);
/* Write all counters as one JSON object; returns 0 or -1 (errno set). */
int stats_write_json(const struct stats *s, FILE *out);

#endif
