/* sim/campaign.c: the fault-injection campaign runner (see campaign.h).
 *
 * Durability is judged by the persistence model, not by the guest: a
 * commit the guest reports counts as durable from the first moment, at or
 * after the report, when the model holds nothing that is not yet
 * guaranteed persistent (no pending line, no held-back store).  A correct
 * guest reports a commit after its final fence, so its commits are
 * durable at once; a guest that forgets a flush or a fence has its
 * commits judged durable only later, or never.
 *
 * Crash points are forked from inside the persistence model's observer,
 * at the exact event: the child freezes the model there, so stores the
 * CPU still makes before it stops (the rest of a rep movs, say) are not
 * part of the crash state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "devices/trace_port.h"
#include "machine/cpu.h"
#include "machine/crash.h"
#include "machine/guest_abi.h"
#include "machine/machine.h"
#include "machine/persist.h"
#include "sim/campaign.h"
#include "sim/config.h"
#include "sim/oracle.h"
#include "sim/sim.h"

/* What a child reports back through the pipe (one atomic write). */
struct child_result {
	uint64_t ordinal;
	uint64_t event, time_ps;
	uint64_t durable_gen, recovered_gen, recovery_ps;
	uint8_t verdict;
	char why[200];
};

struct child {
	pid_t pid;
	uint64_t ordinal;
};

/* A commit of the reference run. */
struct planned_commit {
	uint64_t gen, digest;
	uint64_t root_pa, root_len;     /* where its record is; len 0: not said */
	uint64_t report_event;          /* events when the guest reported it */
	uint64_t write_start;           /* event of the last store to its record */
};

struct watch {
	const struct campaign_opts *o;
	struct machine *m;
	bool reference;                 /* pass 1: log commits and record stores */
	/* Pass 1: what the run does. */
	struct planned_commit *plan;
	size_t nplan, capplan;
	uint64_t *store_ev, *store_pa;  /* every PM store: event and address */
	size_t nstores, capstores;
	/* Pass 2: durability per the model, and what the guest has reported. */
	struct commit_record *all;      /* gen and digest of every planned commit */
	size_t next_durable;            /* first planned commit not yet durable */
	bool have_durable, have_reported;
	uint64_t durable_gen, reported_gen;
	/* Crash-point pass. */
	const uint64_t *points, *ordinals;
	size_t npoints, next;
	int pipe_w;
	struct child *kids;
	size_t nkids;
	struct report *rep;
	bool is_child;
	uint64_t child_ordinal, child_event;
	size_t done;
	struct timespec t0;
};

/* --- durability ------------------------------------------------------ */

/* Is planned commit i durable now?  Its record must have been written
 * (the first store to it has happened) and none of its lines may be
 * pending in the persistence model.  A guest that does not say where its
 * record is gets the conservative stand-in: reported, and nothing at all
 * pending. */
static bool record_durable(struct watch *w, size_t i)
{
	struct persist *p = &w->m->nv.pm;
	const struct planned_commit *c = &w->plan[i];
	if (!c->root_len)
		return w->have_reported && w->reported_gen >= c->gen && persist_pending(p) == 0;
	if (!c->write_start || p->events < c->write_start)
		return false;
	for (uint64_t a = c->root_pa & ~63ull; a < c->root_pa + c->root_len; a += 64)
		if (persist_line(p, a))
			return false;
	return true;
}

/* Commits become durable in order: a later record is never needed
 * before an earlier one. */
static void promote(struct watch *w)
{
	while (w->next_durable < w->nplan && record_durable(w, w->next_durable)) {
		w->durable_gen = w->plan[w->next_durable++].gen;
		w->have_durable = true;
	}
}

static void on_guest_event(void *ctx, const struct trace_port_event *ev)
{
	struct watch *w = ctx;
	if (ev->code != ABI_EV_COMMIT || w->is_child)
		return;
	uint64_t gen = ev->args[0] | (uint64_t)ev->args[1] << 32;
	if (!w->reference) {
		w->have_reported = true;
		w->reported_gen = gen;
		promote(w);
		return;
	}
	if (w->nplan == w->capplan) {
		w->capplan = w->capplan ? 2 * w->capplan : 64;
		w->plan = realloc(w->plan, w->capplan * sizeof *w->plan);
		if (!w->plan)
			abort();
	}
	bool where = ev->nargs >= 7;
	w->plan[w->nplan++] = (struct planned_commit){
		.gen = gen, .digest = ev->args[2] | (uint64_t)ev->args[3] << 32,
		.root_pa = where ? (ev->args[4] | (uint64_t)ev->args[5] << 32) : 0,
		.root_len = where ? ev->args[6] : 0,
		.report_event = w->m->nv.pm.events,
	};
}

/* After the reference run: commit i's record got its final content with
 * the last store to it before the guest reported the commit.  From that
 * event on, the record is durable whenever none of its lines is pending;
 * before it, the place holds an older record or a partial one. */
static void find_write_starts(struct watch *w)
{
	size_t j = 0;
	for (size_t i = 0; i < w->nplan; i++) {
		struct planned_commit *c = &w->plan[i];
		for (; j < w->nstores && w->store_ev[j] <= c->report_event; j++)
			if (w->store_pa[j] - c->root_pa < c->root_len)
				c->write_start = w->store_ev[j];
	}
}

/* --- the recovery run of one crash point (in the child) ----------------- */

struct recovery_watch {
	struct sim *sim;
	bool recovered, first_boot, progressed;
	uint64_t gen, digest;
	uint32_t selfcheck, invariant;
	sim_time_t begin, end;
};

static void on_recovery_event(void *ctx, const struct trace_port_event *ev)
{
	struct recovery_watch *r = ctx;
	switch (ev->code) {
	case ABI_EV_RECOVERY_BEGIN:
		r->begin = ev->when;
		break;
	case ABI_EV_RECOVERY_END:
		r->recovered = true;
		r->end = ev->when;
		r->gen = ev->args[0] | (uint64_t)ev->args[1] << 32;
		r->digest = ev->args[2] | (uint64_t)ev->args[3] << 32;
		r->selfcheck = ev->args[4];
		r->invariant = ev->args[5];
		break;
	case ABI_EV_FIRST_BOOT:
		r->first_boot = r->recovered = true;
		r->end = ev->when;
		break;
	case ABI_EV_COMMIT:
		/* Liveness: a commit after recovery is progress; stop here. */
		if (r->recovered) {
			r->progressed = true;
			sim_request_stop(r->sim, 0);
		}
		break;
	}
}

/* Write the crash state as a sparse image holding just the pages the run
 * changed (the campaign starts from an empty image). */
static int write_crash_image(struct machine *m, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t n;
	uint64_t *pages = persist_touched_pages(&m->nv.pm, &n);
	int rc = pages && ftruncate(fd, (off_t)m->nv.size) == 0 ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t off = pages[i] * PERSIST_PAGE;
		if (pwrite(fd, m->nv.media + off, PERSIST_PAGE, (off_t)off) != PERSIST_PAGE)
			rc = -1;
	}
	free(pages);
	if (close(fd))
		rc = -1;
	return rc;
}

static void child_recover(struct watch *w)
{
	const struct campaign_opts *o = w->o;
	struct child_result res = {.ordinal = w->child_ordinal, .event = w->child_event,
				   .time_ps = w->m->sim->now, .durable_gen = w->durable_gen};
	/* Digests come from the whole reference run: a record that became
	 * durable just before the guest reported it is a legal recovery, and
	 * its digest is the one the guest reported a moment later. */
	struct oracle_input in = {
		.commits = w->all, .ncommits = w->nplan,
		.have_durable = w->have_durable, .durable_gen = w->durable_gen,
		.have_reported = w->have_reported, .reported_gen = w->reported_gen,
	};
	struct oracle_verdict v;
	char path[96], err[512];
	struct rng r;

	/* The crash state: each point draws from its own stream. */
	struct crash_policy pol = {.policy = o->policy, .tearing = o->tearing};
	rng_stream(&r, o->seed ^ (w->child_ordinal * 0x9e3779b97f4a7c15ull), "campaign.crash");
	crash_apply(&w->m->nv.pm, &pol, &r);
	snprintf(path, sizeof path, "%s/phantom-crash-%ld.img",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	if (write_crash_image(w->m, path)) {
		snprintf(res.why, sizeof res.why, "host: cannot write %s: %s", path, strerror(errno));
		res.verdict = VERDICT_LIVENESS;
		goto report;
	}

	/* Boot a fresh machine on it. */
	struct config cfg = *o->cfg;
	cfg.pmem.image = path;
	cfg.serial.output = "none";
	cfg.serial.input = "none";
	cfg.trace.file = "";
	cfg.run.max_time_us = o->recovery_us;
	cfg.run.max_insns = 0;
	struct sim sim;
	struct machine m;
	struct recovery_watch rw = {.sim = &sim};
	sim_init(&sim, o->seed);
	sim.max_time = o->recovery_us * SIM_US;
	if (machine_init(&m, &sim, &cfg, err, sizeof err) < 0) {
		snprintf(res.why, sizeof res.why, "host: %.190s", err);
		res.verdict = VERDICT_LIVENESS;
		unlink(path);
		goto report;
	}
	m.tp.observer = on_recovery_event;
	m.tp.observer_ctx = &rw;
	machine_run(&m);
	unlink(path);

	in.recovered = rw.recovered;
	in.first_boot = rw.first_boot;
	in.recovered_gen = rw.gen;
	in.recovered_digest = rw.digest;
	in.selfcheck = rw.selfcheck;
	in.invariant = rw.invariant;
	in.progressed = rw.progressed;
	oracle_judge(&in, &v);
	res.verdict = (uint8_t)v.verdict;
	res.recovered_gen = rw.gen;
	res.recovery_ps = rw.end > rw.begin ? rw.end - rw.begin : 0;
	snprintf(res.why, sizeof res.why, "%s", v.why);
report:
	if (write(w->pipe_w, &res, sizeof res) != sizeof res)
		_exit(2);
	_exit(0);
}

/* --- the parent's side ------------------------------------------------- */

static int by_ordinal(const void *a, const void *b)
{
	const struct point_result *x = a, *y = b;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static void add_result(struct watch *w, const struct child_result *res)
{
	char repro[512];
	snprintf(repro, sizeof repro, "phantom-sim campaign %s --only %" PRIu64,
		 w->o->repro_args, res->ordinal);
	struct point_result p = {
		.ordinal = res->ordinal, .event = res->event, .time_ps = res->time_ps,
		.verdict = (enum verdict)res->verdict, .why = (char *)res->why,
		.durable_gen = res->durable_gen, .recovered_gen = res->recovered_gen,
		.recovery_ps = res->recovery_ps, .repro = repro,
	};
	report_add(w->rep, &p);
	w->done++;
	if (w->o->progress) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		double el = (double)(t.tv_sec - w->t0.tv_sec) + (double)(t.tv_nsec - w->t0.tv_nsec) / 1e9;
		double eta = w->done ? el / (double)w->done * (double)(w->npoints - w->done) : 0;
		int bar = (int)(30 * w->done / (w->npoints ? w->npoints : 1));
		fprintf(stderr, "\r[%-30.*s] %zu/%zu points, %zu failed, ETA %.0f s ", bar,
			"##############################", w->done, w->npoints,
			report_failures(w->rep), eta);
		if (w->done == w->npoints)
			fputc('\n', stderr);
	}
}

/* Reap one child (blocking) and read its result. */
static void reap(struct watch *w, int pipe_r)
{
	int status;
	pid_t pid = waitpid(-1, &status, 0);
	if (pid <= 0)
		return;
	size_t i;
	for (i = 0; i < w->nkids && w->kids[i].pid != pid; i++)
		;
	if (i == w->nkids)
		return;
	struct child_result res;
	bool got = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		   read(pipe_r, &res, sizeof res) == sizeof res;
	if (!got) {
		res = (struct child_result){.ordinal = w->kids[i].ordinal, .verdict = VERDICT_LIVENESS};
		snprintf(res.why, sizeof res.why, "the recovery run died (status %#x): a simulator bug",
			 status);
	}
	add_result(w, &res);
	w->kids[i] = w->kids[--w->nkids];
}

static int g_pipe_r;

static void on_persist_event(void *ctx, const struct persist_event *ev)
{
	struct watch *w = ctx;
	if (w->is_child)
		return;
	if (w->reference) {
		if (ev->kind == PERSIST_EV_STORE || ev->kind == PERSIST_EV_NTSTORE) {
			if (w->nstores == w->capstores) {
				w->capstores = w->capstores ? 2 * w->capstores : 4096;
				w->store_ev = realloc(w->store_ev, w->capstores * sizeof *w->store_ev);
				w->store_pa = realloc(w->store_pa, w->capstores * sizeof *w->store_pa);
				if (!w->store_ev || !w->store_pa)
					abort();
			}
			w->store_ev[w->nstores] = ev->seq;
			w->store_pa[w->nstores++] = ev->pa;
		}
		return;
	}
	promote(w);
	if (!w->points || w->next == w->npoints || ev->seq != w->points[w->next])
		return;
	uint64_t ordinal = w->ordinals[w->next++];
	while (w->nkids >= w->o->jobs)
		reap(w, g_pipe_r);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child: power fails right here. */
		w->is_child = true;
		w->child_ordinal = ordinal;
		w->child_event = ev->seq;
		persist_freeze(&w->m->nv.pm);
		cpu_request_exit(w->m->cpu);
		sim_request_stop(w->m->sim, 0);
		return;
	}
	if (pid < 0) {
		struct child_result res = {.ordinal = ordinal, .event = ev->seq, .verdict = VERDICT_LIVENESS};
		snprintf(res.why, sizeof res.why, "host: fork failed: %s", strerror(errno));
		add_result(w, &res);
		return;
	}
	w->kids[w->nkids++] = (struct child){pid, ordinal};
}

/* One run of the workload from an empty image at `image`; *events gets
 * the number of persistence events it made. */
static int workload_run(struct watch *w, const char *image, uint64_t *events,
			char *err, size_t errlen)
{
	struct config cfg = *w->o->cfg;
	cfg.pmem.image = (char *)image;
	cfg.serial.output = "none";
	cfg.serial.input = "none";
	cfg.trace.file = "";
	cfg.power.fail_kind = FAIL_NEVER;
	unlink(image);
	struct sim sim;
	struct machine m;
	char e2[512];
	sim_init(&sim, w->o->seed);
	sim.max_time = cfg.run.max_time_us * SIM_US;
	sim.max_insns = cfg.run.max_insns;
	if (machine_init(&m, &sim, &cfg, err, errlen) < 0) {
		machine_free(&m, e2, sizeof e2);
		sim_free(&sim);
		unlink(image);
		return -1;
	}
	if (!m.have_nv) {
		snprintf(err, errlen, "%s: campaigns need persistent memory (pmem.enabled); the block "
			 "device's crash states are not driven by campaigns yet", w->o->config_path);
		machine_free(&m, e2, sizeof e2);
		sim_free(&sim);
		unlink(image);
		return -1;
	}
	w->m = &m;
	w->next_durable = 0;
	w->have_durable = w->have_reported = false;
	w->durable_gen = w->reported_gen = 0;
	m.tp.observer = on_guest_event;
	m.tp.observer_ctx = w;
	persist_set_observer(&m.nv.pm, on_persist_event, w);
	machine_run(&m);
	if (w->is_child)
		child_recover(w);       /* never returns */
	*events = m.nv.pm.events;
	machine_free(&m, e2, sizeof e2);
	sim_free(&sim);
	unlink(image);
	w->m = NULL;
	return 0;
}

int campaign_run(const struct campaign_opts *o, struct report *rep,
		 struct campaign_stats *st, char *err, size_t errlen)
{
	struct watch w = {.o = o, .rep = rep, .pipe_w = -1};
	char image[96];
	uint64_t *points = NULL, *mine = NULL, *ordinals = NULL, events = 0;
	int fds[2] = {-1, -1}, rc = -1;
	snprintf(image, sizeof image, "%s/phantom-campaign-%ld.img",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	*st = (struct campaign_stats){0};

	/* Pass 1: count events, log the commits and where their records are. */
	w.reference = true;
	if (workload_run(&w, image, &events, err, errlen))
		goto out;
	w.reference = false;
	find_write_starts(&w);
	st->events = events;
	st->commits = w.nplan;
	w.all = malloc((w.nplan + 1) * sizeof *w.all);
	uint64_t *commit_events = malloc((2 * w.nplan + 1) * sizeof *commit_events);
	if (!w.all || !commit_events)
		abort();
	size_t ndur = 0;
	for (size_t i = 0; i < w.nplan; i++) {
		w.all[i] = (struct commit_record){w.plan[i].gen, w.plan[i].digest};
		/* Crash around the record write and around the report. */
		if (w.plan[i].write_start)
			commit_events[ndur++] = w.plan[i].write_start;
		if (i < 8)
			st->durable_at[i] = w.plan[i].report_event;
	}
	for (size_t i = 0; i < w.nplan; i++)
		commit_events[ndur++] = w.plan[i].report_event;
	st->durable = ndur;

	/* The points, and this shard's share of them. */
	struct point_plan plan = {
		.mode = o->mode, .events = events, .crashes = o->crashes, .seed = o->seed,
		.commit_events = commit_events, .ncommits = ndur, .around = o->around,
		.window_lo = o->window_lo, .window_hi = o->window_hi,
	};
	size_t n = crash_points_choose(&plan, &points), nmine = 0;
	free(commit_events);
	mine = malloc((n + 1) * sizeof *mine);
	ordinals = malloc((n + 1) * sizeof *ordinals);
	if (!mine || !ordinals)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (o->only ? i != o->only_ordinal : !shard_has(i, o->shard_k, o->shard_m))
			continue;
		mine[nmine] = points[i];
		ordinals[nmine++] = i;
	}
	rep->h.crashes = n;

	/* Pass 2: the same run, forking at every point. */
	if (pipe(fds)) {
		snprintf(err, errlen, "campaign: pipe: %s", strerror(errno));
		goto out;
	}
	g_pipe_r = fds[0];
	w.pipe_w = fds[1];
	w.points = mine;
	w.ordinals = ordinals;
	w.npoints = nmine;
	w.kids = calloc(o->jobs + 1, sizeof *w.kids);
	if (!w.kids)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &w.t0);
	uint64_t events2 = 0;
	if (workload_run(&w, image, &events2, err, errlen))
		goto out;
	while (w.nkids)
		reap(&w, fds[0]);
	/* Points past the end of the run cannot happen in a deterministic
	 * simulator; if one did, say so rather than drop it. */
	for (; w.next < w.npoints; w.next++) {
		struct child_result res = {.ordinal = w.ordinals[w.next], .event = w.points[w.next],
					   .verdict = VERDICT_LIVENESS};
		snprintf(res.why, sizeof res.why, "the run ended before event %" PRIu64
			 " (%" PRIu64 " events): not deterministic?", w.points[w.next], events2);
		add_result(&w, &res);
	}
	/* Children finish in any order; the report lists points in order. */
	qsort(rep->r, rep->n, sizeof *rep->r, by_ordinal);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->host_seconds = (double)(t1.tv_sec - w.t0.tv_sec) + (double)(t1.tv_nsec - w.t0.tv_nsec) / 1e9;
	rc = 0;
out:
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	free(points);
	free(mine);
	free(ordinals);
	free(w.kids);
	free(w.plan);
	free(w.store_ev);
	free(w.store_pa);
	free(w.all);
	return rc;
}
