/* sim/report.c: writing, reading and merging campaign reports. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "sim/report.h"

static char *dup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

void report_init(struct report *rep)
{
	memset(rep, 0, sizeof *rep);
	rep->h.shard_k = rep->h.shard_m = 1;
}

void report_free(struct report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->r[i].why);
		free(rep->r[i].repro);
	}
	free(rep->r);
	free(rep->h.config);
	free(rep->h.policy);
	free(rep->h.points);
	memset(rep, 0, sizeof *rep);
}

void report_add(struct report *rep, const struct point_result *res)
{
	if (rep->n == rep->cap) {
		rep->cap = rep->cap ? 2 * rep->cap : 64;
		rep->r = realloc(rep->r, rep->cap * sizeof *rep->r);
		if (!rep->r)
			abort();
	}
	struct point_result *r = &rep->r[rep->n++];
	*r = *res;
	r->why = dup(res->why);
	r->repro = dup(res->repro);
}

size_t report_failures(const struct report *rep)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->n; i++)
		n += rep->r[i].verdict != VERDICT_PASS;
	return n;
}

/* 64-bit values are written as strings when they exceed what a JSON
 * number carries exactly; hashes always are. */
static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	if (v < (1ull << 53)) {
		cJSON_AddNumberToObject(o, k, (double)v);
	} else {
		char s[24];
		snprintf(s, sizeof s, "%" PRIu64, v);
		cJSON_AddStringToObject(o, k, s);
	}
}

static cJSON *header_json(const struct report_header *h)
{
	cJSON *o = cJSON_CreateObject();
	char hash[20], shard[24];
	snprintf(hash, sizeof hash, "%016" PRIx64, h->config_hash);
	snprintf(shard, sizeof shard, "%u/%u", h->shard_k, h->shard_m);
	cJSON_AddStringToObject(o, "config", h->config ? h->config : "");
	cJSON_AddStringToObject(o, "config_hash", hash);
	add_u64(o, "seed", h->seed);
	cJSON_AddStringToObject(o, "policy", h->policy ? h->policy : "");
	cJSON_AddStringToObject(o, "points", h->points ? h->points : "");
	add_u64(o, "crashes", h->crashes);
	cJSON_AddStringToObject(o, "shard", shard);
	return o;
}

int report_write_json(const struct report *rep, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "campaign", header_json(&rep->h));
	cJSON *sum = cJSON_AddObjectToObject(root, "summary");
	add_u64(sum, "points", rep->n);
	add_u64(sum, "passed", rep->n - report_failures(rep));
	add_u64(sum, "failed", report_failures(rep));
	cJSON *by = cJSON_AddObjectToObject(sum, "by_verdict");
	for (int v = VERDICT_PASS; v <= VERDICT_LIVENESS; v++) {
		uint64_t n = 0;
		for (size_t i = 0; i < rep->n; i++)
			n += rep->r[i].verdict == (enum verdict)v;
		add_u64(by, verdict_name((enum verdict)v), n);
	}
	cJSON *arr = cJSON_AddArrayToObject(root, "results");
	for (size_t i = 0; i < rep->n; i++) {
		const struct point_result *r = &rep->r[i];
		cJSON *o = cJSON_CreateObject();
		add_u64(o, "ordinal", r->ordinal);
		add_u64(o, "event", r->event);
		add_u64(o, "time_ps", r->time_ps);
		cJSON_AddStringToObject(o, "policy", rep->h.policy ? rep->h.policy : "");
		cJSON_AddStringToObject(o, "verdict", verdict_name(r->verdict));
		cJSON_AddStringToObject(o, "why", r->why);
		add_u64(o, "durable_generation", r->durable_gen);
		add_u64(o, "recovered_generation", r->recovered_gen);
		add_u64(o, "recovery_ps", r->recovery_ps);
		cJSON_AddStringToObject(o, "repro", r->repro);
		cJSON_AddItemToArray(arr, o);
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
	free(text);
	return rc;
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			fputc((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s, out);
		}
	}
}

int report_write_junit(const struct report *rep, FILE *out)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites tests=\"%zu\" failures=\"%zu\">\n", rep->n, report_failures(rep));
	fprintf(out, "  <testsuite name=\"phantom-sim campaign ");
	xml_escaped(out, rep->h.config ? rep->h.config : "");
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\">\n", rep->n, report_failures(rep));
	for (size_t i = 0; i < rep->n; i++) {
		const struct point_result *r = &rep->r[i];
		fprintf(out, "    <testcase classname=\"campaign.%s\" name=\"point %" PRIu64
			" (event %" PRIu64 ")\" time=\"0\"", rep->h.policy ? rep->h.policy : "",
			r->ordinal, r->event);
		if (r->verdict == VERDICT_PASS) {
			fprintf(out, "/>\n");
			continue;
		}
		fprintf(out, ">\n      <failure type=\"%s\" message=\"", verdict_name(r->verdict));
		xml_escaped(out, r->why);
		fprintf(out, "\">reproduce: ");
		xml_escaped(out, r->repro);
		fprintf(out, "</failure>\n    </testcase>\n");
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
	return ferror(out) ? -1 : 0;
}

void report_write_summary(const struct report *rep, FILE *out)
{
	size_t failed = report_failures(rep);
	fprintf(out, "campaign %s: %zu crash points, %zu passed, %zu failed\n",
		rep->h.config ? rep->h.config : "", rep->n, rep->n - failed, failed);
	for (size_t i = 0; i < rep->n; i++) {
		const struct point_result *r = &rep->r[i];
		if (r->verdict == VERDICT_PASS)
			continue;
		fprintf(out, "  FAIL %-10s point %" PRIu64 " (event %" PRIu64 "): %s\n    %s\n",
			verdict_name(r->verdict), r->ordinal, r->event, r->why, r->repro);
	}
}

/* --- reading ----------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int get_u64(const cJSON *o, const char *k, uint64_t *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsNumber(x) && x->valuedouble >= 0 && x->valuedouble < 9007199254740992.0) {
		*v = (uint64_t)x->valuedouble;
		return 0;
	}
	if (cJSON_IsString(x) && x->valuestring[0]) {
		char *end;
		*v = strtoull(x->valuestring, &end, 10);
		return *end ? -1 : 0;
	}
	return -1;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int parse(struct report *rep, const char *path, cJSON *root, char *err, size_t errlen)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "campaign");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
	if (!cJSON_IsObject(h))
		return bad(err, errlen, path, "campaign: expected an object");
	if (!cJSON_IsArray(res))
		return bad(err, errlen, path, "results: expected an array");
	const char *hash = get_str(h, "config_hash"), *shard = get_str(h, "shard");
	const char *config = get_str(h, "config"), *policy = get_str(h, "policy");
	const char *points = get_str(h, "points");
	if (!config || !policy || !points)
		return bad(err, errlen, path, "campaign: expected strings config, policy and points");
	if (!hash || sscanf(hash, "%16" SCNx64, &rep->h.config_hash) != 1)
		return bad(err, errlen, path, "campaign.config_hash: expected 16 hex digits");
	if (!shard || sscanf(shard, "%u/%u", &rep->h.shard_k, &rep->h.shard_m) != 2 ||
	    rep->h.shard_k < 1 || rep->h.shard_k > rep->h.shard_m)
		return bad(err, errlen, path, "campaign.shard: expected K/M");
	if (get_u64(h, "seed", &rep->h.seed) || get_u64(h, "crashes", &rep->h.crashes))
		return bad(err, errlen, path, "campaign: expected integers seed and crashes");
	rep->h.config = dup(config);
	rep->h.policy = dup(policy);
	rep->h.points = dup(points);

	int i = 0;
	for (const cJSON *o = res->child; o; o = o->next, i++) {
		struct point_result r = {0};
		const char *v = get_str(o, "verdict");
		int verdict = -1;
		for (int k = VERDICT_PASS; v && k <= VERDICT_LIVENESS; k++)
			if (strcmp(v, verdict_name((enum verdict)k)) == 0)
				verdict = k;
		if (verdict < 0)
			return bad(err, errlen, path, "results[%d].verdict: expected pass, selfcheck, "
				   "durability, atomicity or liveness", i);
		if (get_u64(o, "ordinal", &r.ordinal) || get_u64(o, "event", &r.event) ||
		    get_u64(o, "time_ps", &r.time_ps) ||
		    get_u64(o, "durable_generation", &r.durable_gen) ||
		    get_u64(o, "recovered_generation", &r.recovered_gen) ||
		    get_u64(o, "recovery_ps", &r.recovery_ps))
			return bad(err, errlen, path, "results[%d]: expected integer fields ordinal, event, "
				   "time_ps, durable_generation, recovered_generation, recovery_ps", i);
		r.verdict = (enum verdict)verdict;
		r.why = (char *)get_str(o, "why");
		r.repro = (char *)get_str(o, "repro");
		if (!r.why || !r.repro)
			return bad(err, errlen, path, "results[%d]: expected strings why and repro", i);
		report_add(rep, &r);
	}
	return 0;
}

int report_read_json(struct report *rep, const char *path, char *err, size_t errlen)
{
	report_init(rep);
	FILE *f = fopen(path, "rb");
	if (!f)
		return bad(err, errlen, path, "cannot open");
	size_t cap = 1 << 16, n = 0;
	char *text = malloc(cap);
	size_t got;
	while (text && (got = fread(text + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n == cap - 1) {
			cap *= 2;
			text = realloc(text, cap);
		}
	}
	fclose(f);
	if (!text)
		abort();
	text[n] = 0;
	cJSON *root = cJSON_Parse(text);
	free(text);
	if (!root)
		return bad(err, errlen, path, "malformed JSON");
	int rc = parse(rep, path, root, err, errlen);
	cJSON_Delete(root);
	return rc;
}

static int by_ordinal(const void *a, const void *b)
{
	const struct point_result *x = a, *y = b;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

int report_merge(struct report *out, struct report *const *in, size_t n,
		 char *err, size_t errlen)
{
	report_init(out);
	if (n == 0)
		return snprintf(err, errlen, "merge: no reports"), -1;
	const struct report_header *h0 = &in[0]->h;
	for (size_t i = 1; i < n; i++) {
		const struct report_header *h = &in[i]->h;
		if (h->config_hash != h0->config_hash || h->seed != h0->seed ||
		    strcmp(h->policy, h0->policy) || strcmp(h->points, h0->points) ||
		    h->crashes != h0->crashes || h->shard_m != h0->shard_m)
			return snprintf(err, errlen, "merge: report %zu is not a shard of the same "
					"campaign as report 1 (config, seed, policy, points, crashes "
					"or shard count differ)", i + 1), -1;
	}
	out->h = *h0;
	out->h.config = dup(h0->config);
	out->h.policy = dup(h0->policy);
	out->h.points = dup(h0->points);
	out->h.shard_k = out->h.shard_m = 1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < in[i]->n; j++)
			report_add(out, &in[i]->r[j]);
	qsort(out->r, out->n, sizeof *out->r, by_ordinal);
	for (size_t i = 1; i < out->n; i++)
		if (out->r[i].ordinal == out->r[i - 1].ordinal)
			return snprintf(err, errlen, "merge: crash point %" PRIu64 " appears in two "
					"reports", out->r[i].ordinal), -1;
	return 0;
}
