/* sim/crash_points.c: choosing crash points (see crash_points.h).
 *
 * Uniform sampling draws distinct ordinals with Floyd's algorithm, so the
 * cost is proportional to the sample, not to the number of events.
 */
#include <stdlib.h>
#include <string.h>
#include "sim/crash_points.h"
#include "sim/rng.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates in place; returns the new length. */
static size_t sort_unique(uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmp_u64);
	size_t out = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[out - 1])
			v[out++] = v[i];
	return out;
}

static bool contains(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* k distinct values from [1, n] (Floyd).  Quadratic membership checks are
 * fine for campaign sizes (thousands); v must hold k values. */
static size_t sample(struct rng *r, uint64_t n, uint64_t k, uint64_t *v)
{
	if (k > n)
		k = n;
	size_t len = 0;
	for (uint64_t j = n - k + 1; j <= n; j++) {
		uint64_t t = 1 + rng_below(r, j);
		uint64_t pick = contains(v, len, t) ? j : t;
		v[len++] = pick;
	}
	return sort_unique(v, len);
}

size_t crash_points_choose(const struct point_plan *p, uint64_t **points)
{
	struct rng r;
	rng_stream(&r, p->seed, "campaign.points");
	*points = NULL;
	if (p->events == 0)
		return 0;

	if (p->mode == POINTS_EXHAUSTIVE) {
		uint64_t lo = p->window_lo ? p->window_lo : 1;
		uint64_t hi = p->window_hi < p->events ? p->window_hi : p->events;
		if (hi < lo)
			return 0;
		size_t n = (size_t)(hi - lo + 1);
		uint64_t *v = malloc(n * sizeof *v);
		if (!v)
			abort();
		for (size_t i = 0; i < n; i++)
			v[i] = lo + i;
		*points = v;
		return n;
	}

	uint64_t want = p->crashes < p->events ? p->crashes : p->events;
	uint64_t *v = malloc((want + 1) * sizeof *v);
	if (!v)
		abort();
	if (p->mode == POINTS_UNIFORM) {
		*points = v;
		return sample(&r, p->events, want, v);
	}

	/* Around commits: the commit events themselves first (a bug whose
	 * window is one event wide, such as a commit reported before its
	 * record is fenced, is only seen there), then every event within
	 * `around` of one, thinned out (or topped up uniformly) to the
	 * requested count. */
	size_t cap = p->ncommits * (2 * p->around + 1) + 1, n = 0;
	uint64_t *near = malloc(cap * sizeof *near);
	uint64_t *anchor = malloc((p->ncommits + 1) * sizeof *anchor);
	if (!near || !anchor)
		abort();
	size_t nanchor = 0;
	for (size_t i = 0; i < p->ncommits; i++)
		if (p->commit_events[i] >= 1 && p->commit_events[i] <= p->events)
			anchor[nanchor++] = p->commit_events[i];
	nanchor = sort_unique(anchor, nanchor);
	if (nanchor >= want) {
		uint64_t *pick = malloc((want + 1) * sizeof *pick);
		if (!pick)
			abort();
		size_t k = sample(&r, nanchor, want, pick);
		for (size_t i = 0; i < k; i++)
			v[i] = anchor[pick[i] - 1];
		free(pick);
		free(anchor);
		free(near);
		*points = v;
		return k;
	}
	for (size_t i = 0; i < p->ncommits; i++) {
		uint64_t c = p->commit_events[i];
		uint64_t lo = c > p->around ? c - p->around : 1;
		for (uint64_t e = lo; e <= c + p->around && e <= p->events; e++)
			if (!bsearch(&e, anchor, nanchor, sizeof *anchor, cmp_u64))
				near[n++] = e;
	}
	n = sort_unique(near, n);
	memcpy(v, anchor, nanchor * sizeof *v);
	want -= nanchor;
	v += nanchor;
	size_t len;
	if (n >= want) {
		uint64_t *pick = malloc((want + 1) * sizeof *pick);
		if (!pick)
			abort();
		size_t k = sample(&r, n, want, pick);
		for (size_t i = 0; i < k; i++)
			v[i] = near[pick[i] - 1];
		free(pick);
		len = k;
	} else {
		memcpy(v, near, n * sizeof *v);
		len = n;
		/* Top up with uniform points not already chosen. */
		while (len < want) {
			uint64_t e = 1 + rng_below(&r, p->events);
			if (!contains(v, len, e) && !bsearch(&e, anchor, nanchor, sizeof *anchor, cmp_u64))
				v[len++] = e;
		}
	}
	free(near);
	v -= nanchor;
	len = sort_unique(v, len + nanchor);
	free(anchor);
	*points = v;
	return len;
}

int shard_parse(const char *text, unsigned *k, unsigned *m)
{
	char *end;
	unsigned long a = strtoul(text, &end, 10);
	if (end == text || *end != '/')
		return -1;
	const char *rest = end + 1;
	unsigned long b = strtoul(rest, &end, 10);
	if (end == rest || *end || a < 1 || b < 1 || a > b || b > 1000000)
		return -1;
	*k = (unsigned)a;
	*m = (unsigned)b;
	return 0;
}

const char *point_mode_name(enum point_mode mode)
{
	switch (mode) {
	case POINTS_UNIFORM: return "uniform";
	case POINTS_AROUND_COMMITS: return "around-commits";
	case POINTS_EXHAUSTIVE: return "exhaustive";
	}
	return "?";
}

int point_mode_parse(const char *text, enum point_mode *mode)
{
	for (int m = POINTS_UNIFORM; m <= POINTS_EXHAUSTIVE; m++) {
		if (strcmp(text, point_mode_name((enum point_mode)m)) == 0) {
			*mode = (enum point_mode)m;
			return 0;
		}
	}
	return -1;
}
