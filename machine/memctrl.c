/* machine/memctrl.c: request routing, interleaving and the write-pending
 * queues (see memctrl.h). */
#include <stdlib.h>
#include "machine/memctrl.h"

void memctrl_default_params(struct memctrl_params *p)
{
	*p = (struct memctrl_params){
		.uncore = 13 * SIM_NS,          /* calibrated: DRAM idle latency */
		.imc = 10 * SIM_NS,
		.write_ack = 40 * SIM_NS,       /* calibrated: persist latency */
		.write_issue = 3 * SIM_NS,      /* 64 B burst on a DDR4-2666 / DDR-T channel */
		.wpq_entries = 16,
		.dram_channels = 6,             /* reference platform: 6 per socket */
		.pm_dimms = 6,
		.pm_interleave = 4096,          /* FAST 2020 */
		.dram_interleave = 256,
	};
	dram_default_params(&p->dram);
	optane_default_params(&p->optane);
}

void memctrl_init(struct memctrl *m, const struct memctrl_params *p,
		  uint64_t pm_base, uint64_t pm_size)
{
	*m = (struct memctrl){.p = *p, .pm_base = pm_base, .pm_size = pm_size};
	if (m->p.wpq_entries < 1 || m->p.wpq_entries > WPQ_MAX)
		m->p.wpq_entries = WPQ_MAX;
	if (m->p.dram_channels < 1)
		m->p.dram_channels = 1;
	if (m->p.pm_dimms < 1)
		m->p.pm_dimms = 1;
	m->dram = calloc(m->p.dram_channels, sizeof *m->dram);
	m->dram_wpq = calloc(m->p.dram_channels, sizeof *m->dram_wpq);
	m->pm = calloc(m->p.pm_dimms, sizeof *m->pm);
	m->pm_wpq = calloc(m->p.pm_dimms, sizeof *m->pm_wpq);
	if (!m->dram || !m->dram_wpq || !m->pm || !m->pm_wpq)
		abort();
	for (unsigned i = 0; i < m->p.dram_channels; i++)
		dram_init(&m->dram[i], &m->p.dram);
	for (unsigned i = 0; i < m->p.pm_dimms; i++)
		optane_init(&m->pm[i], &m->p.optane);
}

void memctrl_free(struct memctrl *m)
{
	for (unsigned i = 0; i < m->p.pm_dimms; i++)
		optane_free(&m->pm[i]);
	free(m->dram);
	free(m->dram_wpq);
	free(m->pm);
	free(m->pm_wpq);
	*m = (struct memctrl){0};
}

/* Which DIMM or channel, and the address within it, for an interleave of
 * `stride` bytes over n devices. */
static unsigned route(uint64_t off, uint64_t stride, unsigned n, uint64_t *local)
{
	uint64_t chunk = off / stride;
	*local = chunk / n * stride + off % stride;
	return (unsigned)(chunk % n);
}

static bool is_pm(const struct memctrl *m, uint64_t pa)
{
	return m->pm_size && pa >= m->pm_base && pa - m->pm_base < m->pm_size;
}

/* Retire entries drained by `now`. */
static void wpq_retire(struct wpq *q, sim_time_t now)
{
	while (q->n && q->drained[q->head] <= now) {
		q->head = (q->head + 1) % WPQ_MAX;
		q->n--;
	}
}

static bool wpq_holds(const struct wpq *q, uint64_t line)
{
	for (unsigned i = 0; i < q->n; i++)
		if (q->addr[(q->head + i) % WPQ_MAX] == line)
			return true;
	return false;
}

sim_time_t memctrl_read(struct memctrl *m, uint64_t pa, sim_time_t now)
{
	sim_time_t at = now + m->p.uncore / 2 + m->p.imc;
	uint64_t local, line = pa & ~63ull;
	sim_time_t done;
	m->reads++;
	if (is_pm(m, pa)) {
		unsigned d = route(pa - m->pm_base, m->p.pm_interleave, m->p.pm_dimms, &local);
		wpq_retire(&m->pm_wpq[d], at);
		if (wpq_holds(&m->pm_wpq[d], line)) {
			m->wpq_forwards++;
			done = at;
		} else {
			done = optane_read(&m->pm[d], local, at);
		}
	} else {
		unsigned c = route(pa, m->p.dram_interleave, m->p.dram_channels, &local);
		wpq_retire(&m->dram_wpq[c], at);
		if (wpq_holds(&m->dram_wpq[c], line)) {
			m->wpq_forwards++;
			done = at;
		} else {
			done = dram_access(&m->dram[c], local, at);
		}
	}
	return done + m->p.uncore / 2;
}

sim_time_t memctrl_write(struct memctrl *m, uint64_t pa, sim_time_t now)
{
	sim_time_t at = now + m->p.uncore / 2 + m->p.imc;
	uint64_t local;
	bool pm = is_pm(m, pa);
	unsigned i = pm ? route(pa - m->pm_base, m->p.pm_interleave, m->p.pm_dimms, &local)
			: route(pa, m->p.dram_interleave, m->p.dram_channels, &local);
	struct wpq *q = pm ? &m->pm_wpq[i] : &m->dram_wpq[i];

	m->writes++;
	wpq_retire(q, at);
	if (q->n == m->p.wpq_entries) {         /* full: wait for the oldest */
		sim_time_t free_at = q->drained[q->head];
		m->wpq_full_stalls++;
		m->wpq_stall_time += free_at - at;
		at = free_at;
		wpq_retire(q, at);
	}
	/* Entries leave in order, one burst apart on the channel: the iMC
	 * does not wait for one write to be accepted before it sends the
	 * next (DDR-T writes are posted).  An entry has drained when the
	 * device has accepted it, which is never before the entry ahead. */
	sim_time_t start = at > q->issue_free ? at : q->issue_free;
	q->issue_free = start + m->p.write_issue;
	sim_time_t drained = pm ? optane_write(&m->pm[i], local, start)
				: dram_access(&m->dram[i], local, start);
	if (q->n) {
		sim_time_t prev = q->drained[(q->head + q->n - 1) % WPQ_MAX];
		if (drained < prev)
			drained = prev;
	}
	unsigned slot = (q->head + q->n) % WPQ_MAX;
	q->addr[slot] = pa & ~63ull;
	q->drained[slot] = drained;
	q->n++;
	return at + m->p.write_ack + m->p.uncore / 2;
}

unsigned memctrl_wpq_occupancy(const struct memctrl *m, bool pm, sim_time_t now)
{
	unsigned n = pm ? m->p.pm_dimms : m->p.dram_channels, total = 0;
	const struct wpq *qs = pm ? m->pm_wpq : m->dram_wpq;
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < qs[i].n; k++)
			total += qs[i].drained[(qs[i].head + k) % WPQ_MAX] > now;
	return total;
}
