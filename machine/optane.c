/* machine/optane.c: the Optane DIMM controller model (see optane.h).
 *
 * Reads: an XPBuffer hit costs buffer_hit; otherwise the AIT is consulted
 * (a miss adds ait_miss) and the XPLine is read from the media, which then
 * stays in the XPBuffer, so the next three 64-byte reads of the same
 * XPLine are buffer hits: that is why sequential reads cost about half of
 * random ones on real DIMMs.
 *
 * Writes merge into the XPBuffer.  Room is made by evicting the least
 * recently used XPLine: a fully written one costs one media write, a
 * partially written one first a media read (read-modify-write), which is
 * the write amplification of small random writes.  Write-backs overlap
 * with the request that caused them but occupy the media, and once more
 * than write_backlog of them are queued, new writes wait: that is the
 * back-pressure the memory controller's write-pending queue sees.  The
 * backlog is one 4 KiB interleave chunk (16 XPLines): a DIMM takes a
 * sequential stream's whole chunk and writes it back while the stream
 * moves on to the other DIMMs (docs/timing.md).
 */
#include <stdlib.h>
#include "machine/optane.h"

void optane_default_params(struct optane_params *p)
{
	*p = (struct optane_params){
		.media_read = 75 * SIM_NS,      /* VANS */
		.media_write = 225 * SIM_NS,    /* VANS */
		.buffer_hit = 50 * SIM_NS,      /* calibrated: sequential reads */
		.buffer_write = 7500,           /* 7.5 ns, VANS RMW-buffer write */
		.ait_miss = 112500,             /* 112.5 ns, VANS AIT -> RMW transfer */
		.ddrt = 30 * SIM_NS,            /* calibrated: random read latency */
		.xpbuffer_lines = 64,           /* 16 KiB, FAST 2020 / VANS */
		.ait_entries = 4096,            /* VANS: 16 MiB of 4 KiB blocks */
		.media_units = 2,               /* calibrated: per-DIMM bandwidth */
		.write_backlog = 16,            /* calibrated: FAST 2020 interleaved ntstores */
	};
}

void optane_init(struct optane_dimm *d, const struct optane_params *p)
{
	*d = (struct optane_dimm){.p = *p};
	if (d->p.media_units < 1)
		d->p.media_units = 1;
	if (d->p.media_units > OPTANE_MAX_UNITS)
		d->p.media_units = OPTANE_MAX_UNITS;
	d->xpb = calloc(p->xpbuffer_lines, sizeof *d->xpb);
	d->ait = calloc(p->ait_entries, sizeof *d->ait);
	if (!d->xpb || !d->ait)
		abort();
}

void optane_free(struct optane_dimm *d)
{
	free(d->xpb);
	free(d->ait);
	*d = (struct optane_dimm){0};
}

#define AIT_WAYS 16

/* Fully associative LRU lookup (of a set).  On a hit returns the slot with *hit set;
 * otherwise the slot to replace: the first empty one, else the least
 * recently used. */
static struct optane_slot *lookup(struct optane_slot *s, unsigned n, uint64_t tag,
				  uint64_t *clock, bool *hit)
{
	struct optane_slot *victim = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (s[i].valid && s[i].tag == tag) {
			s[i].stamp = ++*clock;
			*hit = true;
			return &s[i];
		}
		if (!s[i].valid) {
			if (!victim || victim->valid)
				victim = &s[i];
		} else if (!victim || (victim->valid && s[i].stamp < victim->stamp)) {
			victim = &s[i];
		}
	}
	*hit = false;
	return victim;
}

/* Start a media operation on the earliest free unit once `ready`;
 * returns its completion time. */
static sim_time_t media(struct optane_dimm *d, sim_time_t ready, sim_time_t cost)
{
	unsigned u = 0;
	for (unsigned i = 1; i < d->p.media_units; i++)
		if (d->media_free[i] < d->media_free[u])
			u = i;
	sim_time_t start = ready > d->media_free[u] ? ready : d->media_free[u];
	d->media_free[u] = start + cost;
	return d->media_free[u];
}

/* The time by which the media has worked off all but `backlog` queued
 * write-backs: a new write waits for that much room. */
static sim_time_t room(const struct optane_dimm *d, sim_time_t t)
{
	sim_time_t latest = 0;
	for (unsigned i = 0; i < d->p.media_units; i++)
		if (d->media_free[i] > latest)
			latest = d->media_free[i];
	sim_time_t allowance = (sim_time_t)d->p.write_backlog * d->p.media_write / d->p.media_units;
	return latest > t + allowance ? latest - allowance : t;
}

static sim_time_t ait(struct optane_dimm *d, uint64_t addr, sim_time_t t)
{
	bool hit;
	/* The AIT cache is modelled 16-way set associative (VANS gives its
	 * size, not its organisation): a fully associative search of 4096
	 * entries per access would dominate the simulator's run time. */
	uint64_t tag = addr / AIT_BLOCK;
	unsigned ways = d->p.ait_entries < AIT_WAYS ? d->p.ait_entries : AIT_WAYS;
	unsigned sets = d->p.ait_entries / ways;
	struct optane_slot *set = &d->ait[(tag % sets) * ways];
	struct optane_slot *s = lookup(set, ways, tag, &d->clock, &hit);
	if (hit)
		return t;
	d->ait_misses++;
	*s = (struct optane_slot){.tag = addr / AIT_BLOCK, .stamp = ++d->clock, .valid = true};
	return t + d->p.ait_miss;
}

static void evict(struct optane_dimm *d, const struct optane_slot *s, sim_time_t t)
{
	if (!s->valid || !s->written)
		return;
	if (s->written != 0xF) {                /* partial XPLine: read first */
		d->rmw++;
		d->media_reads++;
		t = media(d, t, d->p.media_read);
	}
	d->media_writes++;
	media(d, t, d->p.media_write);
}

sim_time_t optane_read(struct optane_dimm *d, uint64_t addr, sim_time_t now)
{
	bool hit;
	sim_time_t t = now + d->p.ddrt;
	d->reads++;
	struct optane_slot *s = lookup(d->xpb, d->p.xpbuffer_lines, addr / XPLINE, &d->clock, &hit);
	if (hit) {
		d->xpb_hits++;
		return t + d->p.buffer_hit + d->p.ddrt;
	}
	t = ait(d, addr, t);
	evict(d, s, t);
	d->media_reads++;
	t = media(d, t, d->p.media_read);
	*s = (struct optane_slot){.tag = addr / XPLINE, .stamp = ++d->clock, .valid = true};
	return t + d->p.ddrt;
}

sim_time_t optane_write(struct optane_dimm *d, uint64_t addr, sim_time_t now)
{
	bool hit;
	sim_time_t t = now + d->p.ddrt;
	d->writes++;
	struct optane_slot *s = lookup(d->xpb, d->p.xpbuffer_lines, addr / XPLINE, &d->clock, &hit);
	if (hit) {
		d->xpb_hits++;
	} else {
		t = room(d, ait(d, addr, t));
		evict(d, s, t);
		*s = (struct optane_slot){.tag = addr / XPLINE, .stamp = ++d->clock, .valid = true};
	}
	s->written |= (uint8_t)(1u << ((addr % XPLINE) / 64));
	return t + d->p.buffer_write;
}
