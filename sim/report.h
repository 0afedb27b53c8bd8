/* sim/report.h: campaign reports, as JSON and JUnit XML, and the merge
 * of sharded reports.
 *
 * A report holds a header (what was run) and one result per crash point,
 * kept in crash-point order.  Nothing in it depends on the host (no wall
 * time, no paths of temporary files), so the merge of M shard reports is
 * byte-identical to the report of the unsharded run.
 */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/oracle.h"

struct report_header {
	char *config;                   /* config file as given */
	uint64_t config_hash;
	uint64_t seed;
	char *policy;                   /* strict | lenient | random */
	char *points;                   /* uniform | around-commits | exhaustive */
	uint64_t crashes;               /* points in the whole campaign */
	unsigned shard_k, shard_m;
};

struct point_result {
	uint64_t ordinal;               /* position in the campaign's point list */
	uint64_t event;                 /* crash after this persistence event */
	uint64_t time_ps;               /* simulated time of the crash */
	enum verdict verdict;
	char *why;
	uint64_t durable_gen;           /* per the persistence model; 0 = none */
	uint64_t recovered_gen;
	uint64_t recovery_ps;           /* simulated time recovery took */
	char *repro;                    /* one command reproducing this point */
};

struct report {
	struct report_header h;
	struct point_result *r;
	size_t n, cap;
};

void report_init(struct report *rep);
void report_free(struct report *rep);
/* Add a result (copies the strings). */
void report_add(struct report *rep, const struct point_result *res);
size_t report_failures(const struct report *rep);

int report_write_json(const struct report *rep, FILE *out);
int report_write_junit(const struct report *rep, FILE *out);
void report_write_summary(const struct report *rep, FILE *out);
/* Read a JSON report; -1 with one line in err naming the file and field. */
int report_read_json(struct report *rep, const char *path, char *err, size_t errlen);
/* Merge shard reports of one campaign into *out (header shard 1/1); -1
 * with err if they are not shards of the same campaign or overlap. */
int report_merge(struct report *out, struct report *const *in, size_t n,
		 char *err, size_t errlen);

#endif
