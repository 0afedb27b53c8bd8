/* sim/campaign.c: the fault-injection campaign runner (see campaign.h).
 *
 * Three kinds of process take part:
 *
 *   the main process  runs the workload twice: a reference run that logs
 *                     the commits, then the crash-point pass, which runs
 *                     in checkpoints (copies of the main process that the
 *                     reference run forked, see checkpoint_here) or from
 *                     boot.  At each crash point it computes the crash
 *                     state the policy picks, without changing its own
 *                     machine (the persistence model is only read), and
 *                     sends it to the fork server as a list of pages;
 *   the fork server   boots the recovery machine once, up to the moment
 *                     the guest is about to read its store for the first
 *                     time (trace event ABI_EV_STORE_OPEN: everything the
 *                     guest did before is the same whatever the store
 *                     holds), and forks it for every crash state;
 *   a recovery child  puts the crash state into its copy of that machine's
 *                     persistent memory or disk, runs on until the guest
 *                     has recovered and committed again, judges the point
 *                     and writes its verdict to the main process.
 *
 * So no crash point re-runs the workload, no point boots a machine, and
 * no image file is written: the child's state is what a fresh boot on the
 * crash image would have reached (the store is the only difference, and
 * it is untouched before that event), so the verdicts are the same; the
 * option `reboot` boots a fresh machine per point, and reruns the workload
 * from boot, to check exactly that.  Recovery machines run with fast CPU
 * timing (see recovery_config).
 *
 * Durability is judged by the persistence model, not by the guest: a
 * commit counts as durable once its record's final store has happened and
 * none of its lines is pending (docs/campaigns.md).  A guest that does not
 * say where its record is gets the conservative stand-in: reported, and
 * nothing at all pending (no line, no held store; on the disk no cached or
 * in-flight write).
 *
 * A crash point k is taken right before the model applies event k + 1:
 * the crash state is the one after event k, and everything the guest did
 * up to the instruction that makes event k + 1 (its commit reports in
 * particular) happened before the power failed.  That is the latest
 * instant with that state, so a commit reported before its record became
 * durable is seen as reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "devices/blockdev.h"
#include "devices/trace_port.h"
#include "devices/virtio_blk.h"
#include "machine/blk_crash.h"
#include "machine/cpu.h"
#include "machine/crash.h"
#include "machine/guest_abi.h"
#include "machine/machine.h"
#include "machine/persist.h"
#include "sim/campaign.h"
#include "sim/config.h"
#include "sim/oracle.h"
#include "sim/rng.h"
#include "sim/sim.h"

#define PAGE PERSIST_PAGE

/* A crash point, main process -> fork server; npages pages follow. */
struct point_req {
	uint64_t ordinal, event, time_ps;
	uint64_t durable_gen, reported_gen;
	uint64_t npages;
	uint8_t have_durable, have_reported, pad[6];
};

struct page_img {
	uint64_t page;                  /* offset / PAGE in the PM region or on the disk */
	uint8_t data[PAGE];
};

/* What a recovery run saw, recovery child (or fork server) -> main
 * process, in one atomic pipe write (smaller than PIPE_BUF).  The main
 * process judges it: it alone has the reference run's commits, so the
 * server can start before that run and boot while it goes on. */
struct recovery_msg {
	struct point_req q;             /* the point, echoed */
	uint8_t ran;                    /* 0: no recovery run (why says) */
	uint8_t recovered, first_boot, progressed;
	uint32_t selfcheck, invariant;
	uint64_t gen, digest, recovery_ps;
	char why[200];
};
_Static_assert(sizeof(struct recovery_msg) <= 512, "messages are written atomically");

/* A judged point. */
struct child_result {
	uint64_t ordinal;
	uint64_t event, time_ps;
	uint64_t durable_gen, recovered_gen, recovery_ps;
	uint8_t verdict;
	char why[200];
};

/* A commit of the reference run. */
struct planned_commit {
	uint64_t gen, digest;
	uint64_t root_pa, root_len;     /* where its record is; len 0: not said */
	uint64_t report_event;          /* events when the guest reported it */
	uint64_t write_start;           /* event of the last store to its record */
};

/* The pages of one crash image, found by page number. */
struct image_set {
	struct page_img *pages;
	size_t n, cap;
	uint64_t *keys;                 /* open addressing: page -> index + 1 in idx */
	size_t *idx;
	size_t kcap;
};

struct watch {
	const struct campaign_opts *o;
	struct machine *m;
	bool disk;                      /* the store is the block device */
	struct persist *ev;             /* the model that counts events */
	struct persist blkev;           /* disk: counts the block device's events */
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
	int req_fd, res_fd;             /* to the fork server; from the children */
	char resbuf[2 * sizeof(struct recovery_msg)];
	size_t resfill;
	struct report *rep;
	size_t done;
	bool server_gone;
	struct image_set img;
	struct timespec t0;
	/* Checkpoints: pass 1 forks them; each runs a stretch of pass 2. */
	struct checkpoint *ck;
	size_t nck;
	bool ck_off;                    /* take no more */
	uint64_t ck_insns;              /* instructions at the last one */
	bool in_ckpt;                   /* this process is a checkpoint */
	int ck_done_fd;                 /* in a checkpoint: to the main process */
};

/* A copy of the pass-1 process, stopped right before persistence event
 * seq (see checkpoint_here). */
struct checkpoint {
	pid_t pid;
	int ctl;                        /* main -> checkpoint: its points, or EOF */
	int done;                       /* checkpoint -> main: struct ck_done */
	uint64_t seq;
};

/* Main process -> checkpoint; nplan planned commits, then npoints events
 * and npoints ordinals follow. */
struct ck_handoff {
	uint64_t nplan, npoints;
};

/* Checkpoint -> main process, when it has taken its points (or the run
 * ended first). */
struct ck_done {
	uint64_t sent, events;
};

/* Pass 1 forks a checkpoint at its first persistence event and then after
 * every CKPT_INSNS instructions, as long as no commit has been reported
 * (see checkpoint_here): at most CKPT_MAX of them. */
#define CKPT_INSNS 1000000
#define CKPT_MAX 16

/* --- durability ------------------------------------------------------ */

static bool disk_idle(struct machine *m)
{
	if (blockdev_pending(&m->bd))
		return false;
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++)
		if (m->vb.req[i].busy && m->vb.req[i].type == VIRTIO_BLK_T_OUT)
			return false;
	return true;
}

/* Is planned commit i durable now?  Its record must have been written
 * (its final store has happened) and none of its lines may be pending in
 * the persistence model.  Only the peek calls: this runs inside the
 * model's observers. */
static bool record_durable(struct watch *w, size_t i)
{
	const struct persist *p = w->ev;
	const struct planned_commit *c = &w->plan[i];
	if (!c->root_len) {
		bool idle = w->disk ? disk_idle(w->m) : p->npending == 0 && p->ndefer == 0;
		return w->have_reported && w->reported_gen >= c->gen && idle;
	}
	if (!c->write_start || p->events < c->write_start)
		return false;
	for (uint64_t a = c->root_pa & ~63ull; a < c->root_pa + c->root_len; a += 64)
		if (persist_peek_line(p, a))
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
	if (ev->code == ABI_EV_DIGEST) {
		/* The pages were hashed after the root was durable: the commit
		 * was planned with digest 0 and its real digest arrives now.
		 * Only the reference run builds the plan; the others get it. */
		if (!w->reference)
			return;
		uint64_t gen = ev->args[0] | (uint64_t)ev->args[1] << 32;
		for (size_t i = w->nplan; i-- > 0;) {
			if (w->plan[i].gen == gen) {
				w->plan[i].digest = ev->args[2] | (uint64_t)ev->args[3] << 32;
				break;
			}
		}
		return;
	}
	if (ev->code != ABI_EV_COMMIT)
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
		.report_event = w->ev->events,
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

/* --- crash images ------------------------------------------------------ */

static void image_reset(struct image_set *s)
{
	s->n = 0;
	if (s->keys)
		memset(s->keys, 0xff, s->kcap * sizeof *s->keys);
}

static void image_free(struct image_set *s)
{
	free(s->pages);
	free(s->keys);
	free(s->idx);
	memset(s, 0, sizeof *s);
}

/* The page's buffer; a page met for the first time starts as base's copy. */
static uint8_t *image_page(struct image_set *s, uint64_t page, const uint8_t *base)
{
	if (2 * (s->n + 1) > s->kcap) {
		size_t cap = s->kcap ? 2 * s->kcap : 1024;
		free(s->keys);
		free(s->idx);
		s->keys = malloc(cap * sizeof *s->keys);
		s->idx = malloc(cap * sizeof *s->idx);
		if (!s->keys || !s->idx)
			abort();
		memset(s->keys, 0xff, cap * sizeof *s->keys);
		s->kcap = cap;
		for (size_t i = 0; i < s->n; i++) {
			size_t j = (size_t)(s->pages[i].page * 0x9e3779b97f4a7c15ull) & (cap - 1);
			while (s->keys[j] != UINT64_MAX)
				j = (j + 1) & (cap - 1);
			s->keys[j] = s->pages[i].page;
			s->idx[j] = i;
		}
	}
	size_t j = (size_t)(page * 0x9e3779b97f4a7c15ull) & (s->kcap - 1);
	while (s->keys[j] != UINT64_MAX && s->keys[j] != page)
		j = (j + 1) & (s->kcap - 1);
	if (s->keys[j] == page)
		return s->pages[s->idx[j]].data;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->pages = realloc(s->pages, s->cap * sizeof *s->pages);
		if (!s->pages)
			abort();
	}
	s->keys[j] = page;
	s->idx[j] = s->n;
	s->pages[s->n].page = page;
	memcpy(s->pages[s->n].data, base + page * PAGE, PAGE);
	return s->pages[s->n++].data;
}

static void put_line(void *ctx, const struct pline *pl, const uint8_t line[PERSIST_LINE])
{
	struct watch *w = ctx;
	uint64_t off = pl->line * PERSIST_LINE;
	memcpy(image_page(&w->img, off / PAGE, w->ev->media) + off % PAGE, line, PERSIST_LINE);
}

/* The crash state of point `ordinal` now, as the pages that differ from
 * the empty image the workload started from (or may). */
static void crash_image(struct watch *w, uint64_t ordinal)
{
	const struct campaign_opts *o = w->o;
	struct rng r;
	/* Each point draws from its own stream.  Under random, half the
	 * points choose per page (whole records landed or not: ordering bugs
	 * between blocks), half per line or word (everything legal). */
	rng_stream(&r, o->seed ^ (ordinal * 0x9e3779b97f4a7c15ull), "campaign.crash");
	struct crash_policy pol = {.policy = o->policy, .tearing = o->tearing};
	bool pages = o->policy == POLICY_RANDOM && rng_below(&r, 2);
	image_reset(&w->img);
	if (!w->disk) {
		const struct persist *p = w->ev;
		for (size_t i = 0; i < p->touchcap; i++)
			if (p->touched[i] != UINT64_MAX)
				image_page(&w->img, p->touched[i], p->media);
		crash_peek(p, &pol, pages, &r, put_line, w);
		return;
	}
	struct blockdev *bd = &w->m->bd;
	for (size_t i = 0; i < bd->touched.cap; i++)
		if (bd->touched.keys[i] != UINT64_MAX)
			image_page(&w->img, bd->touched.keys[i], bd->media);
	struct blk_write **extra;
	size_t nextra = virtio_blk_inflight_writes(&w->m->vb, &extra);
	struct blk_crash_state cs;
	if (blk_crash_choose_with(bd, (const struct blk_write *const *)extra, nextra, &pol, &r,
				  &cs) == 0) {
		uint32_t ss = bd->sector_size;
		for (size_t k = 0; k < cs.npieces; k++) {
			const struct blk_piece *pc = &cs.pieces[k];
			if (!pc->landed)
				continue;
			uint64_t first = pc->sector * ss / PAGE, last = ((pc->sector + pc->count) * ss - 1) / PAGE;
			for (uint64_t pg = first; pg <= last; pg++)
				image_page(&w->img, pg, bd->media);
		}
		/* Render every page the landed pieces touch from media up. */
		for (size_t i = 0; i < w->img.n; i++)
			blk_crash_render_with(bd, (const struct blk_write *const *)extra, &cs,
					      w->img.pages[i].page * PAGE / ss, PAGE / ss,
					      w->img.pages[i].data);
		blk_crash_state_free(&cs);
	}
	for (size_t i = 0; i < nextra; i++)
		free(extra[i]);
	free(extra);
}

/* --- the recovery run of one crash point (in a child of the server) ----- */

struct recovery_watch {
	struct sim *sim;
	struct cpu *split;              /* --reboot: end the CPU's slice at store open */
	bool recovered, first_boot, progressed;
	uint64_t gen, digest;
	uint32_t selfcheck, invariant;
	sim_time_t begin, end;
};

static void on_recovery_event(void *ctx, const struct trace_port_event *ev)
{
	struct recovery_watch *r = ctx;
	switch (ev->code) {
	case ABI_EV_STORE_OPEN:
		/* The forked machines resume here with a new slice of the
		 * machine's run loop, which looks at interrupts and device
		 * events between slices; with cpu.timing = fast where a slice
		 * ends can move them by an instruction or so (the disk's
		 * recovery times differed).  A fresh boot ends its slice here
		 * too, to run exactly as a forked machine. */
		if (r->split)
			cpu_request_exit(r->split);
		break;
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

/* The fork server's machine: booted once, stopped at ABI_EV_STORE_OPEN. */
struct server {
	const struct campaign_opts *o;
	bool disk;
	struct config cfg;
	struct sim sim;
	struct machine m;
	bool up;                        /* machine_init succeeded */
	bool paused;                    /* stopped at the store-open event */
	char image[96];                 /* its (empty) store image */
	char cmdline[1400];
	char err[512];
};

static void on_template_event(void *ctx, const struct trace_port_event *ev)
{
	struct server *s = ctx;
	if (ev->code == ABI_EV_STORE_OPEN && !s->paused) {
		s->paused = true;
		cpu_request_exit(s->m.cpu);
		sim_request_stop(&s->sim, 0);
	}
}

/* The recovery machine's config: the campaign's, with its store at path,
 * no console and no trace, bounded by the recovery time.  Progress is a
 * new commit, so the guest's command line gets o->recovery_args (by
 * default a snapshot every millisecond and a paced workload): what it
 * recovers is the same, and the commit that shows it runs on comes 1 ms
 * later rather than after a full interval of the workload running flat
 * out, which was most of a point's cost.  cmdline must hold 1400 bytes.
 *
 * The recovery runs with cpu.timing = fast unless o->recovery_config_timing:
 * what the guest reads from its store, and so every verdict but the time
 * bound, does not depend on cycle costs, and the cache and memory model
 * made a point's recovery run take twice the host time.  The crash states
 * still come from the reference run with the config's timing (the order
 * of write-backs, hence the states, depends on it).  The bound then holds
 * the recovery to --recovery-us at one instruction per cycle
 * (docs/campaigns.md). */
static void recovery_config(const struct campaign_opts *o, bool disk, const char *path,
			    struct config *cfg, char *cmdline)
{
	*cfg = *o->cfg;
	if (o->recovery_args && o->recovery_args[0]) {
		snprintf(cmdline, 1400, "%.1000s %.300s",
			 cfg->guest.cmdline ? cfg->guest.cmdline : "", o->recovery_args);
		cfg->guest.cmdline = cmdline;
	}
	if (disk)
		cfg->block.image = (char *)path;
	else
		cfg->pmem.image = (char *)path;
	cfg->serial.output = "none";
	cfg->serial.input = "none";
	cfg->trace.file = "";
	cfg->run.max_time_us = o->recovery_us;
	cfg->run.max_insns = 0;
	cfg->power.fail_kind = FAIL_NEVER;
	if (!o->recovery_config_timing)
		cfg->cpu.timing = TIMING_FAST;
}

/* The server forks its machine once per crash point.  With the RAM the
 * guest wrote while booting in transparent huge pages, fork copies one
 * entry per 2 MiB instead of 512, and a child's write still copies only
 * the 4 KiB it touches (the kernel splits the huge page in the child).
 * Memory first touched in a child should not come as a 2 MiB page to
 * clear, so once booted the hint is turned off again (the huge pages
 * already there stay).  Only hints: nothing else depends on them. */
static void huge_pages(struct machine *m, bool on)
{
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
	for (size_t i = 0; i < m->bus.nregions; i++) {
		const struct bus_region *r = &m->bus.regions[i];
		if (r->host && r->owns_host)
			madvise(r->host, r->size, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	}
#else
	(void)m;
	(void)on;
#endif
}

static int server_boot(struct server *s)
{
	const struct campaign_opts *o = s->o;
	unlink(s->image);
	recovery_config(o, s->disk, s->image, &s->cfg, s->cmdline);
	sim_init(&s->sim, o->seed);
	s->sim.max_time = o->recovery_us * SIM_US;
	if (machine_init(&s->m, &s->sim, &s->cfg, s->err, sizeof s->err) < 0)
		return -1;
	s->up = true;
	if (o->reboot)
		return 0;
	huge_pages(&s->m, true);
	s->m.tp.observer = on_template_event;
	s->m.tp.observer_ctx = s;
	machine_run(&s->m);
	huge_pages(&s->m, false);
	s->m.tp.observer = NULL;
	return 0;
}

/* Write the crash image as a sparse file of `size` bytes. */
static int write_image(const char *path, uint64_t size, const struct page_img *pages, uint64_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)size) == 0 ? 0 : -1;
	for (uint64_t i = 0; i < n && rc == 0; i++)
		if (pwrite(fd, pages[i].data, PAGE, (off_t)(pages[i].page * PAGE)) != PAGE)
			rc = -1;
	if (close(fd))
		rc = -1;
	return rc;
}

static void send_msg(int fd, const struct recovery_msg *msg)
{
	if (write(fd, msg, sizeof *msg) != sizeof *msg)
		_exit(2);
}

/* No recovery run for q: say why. */
static void send_failure(int fd, const struct point_req *q, const char *fmt, const char *arg)
{
	struct recovery_msg msg = {.q = *q};
	snprintf(msg.why, sizeof msg.why, fmt, arg);
	send_msg(fd, &msg);
}

/* Run one crash point; never returns. */
static void __attribute__((noreturn))
run_point(struct server *s, const struct point_req *q, const struct page_img *pages, int res_fd)
{
	const struct campaign_opts *o = s->o;
	bool disk = s->disk;
	struct recovery_watch rw = {0};
	struct machine *m = &s->m;
	char path[96];

	if (s->paused) {
		/* The machine has not read its store yet: the crash state goes
		 * straight into it, as the image a fresh boot would map. */
		uint64_t size = disk ? m->bd.size : m->nv.size;
		for (uint64_t i = 0; i < q->npages; i++) {
			uint64_t off = pages[i].page * PAGE;
			if (off + PAGE > size)
				continue;
			if (disk) {
				memcpy(m->bd.media + off, pages[i].data, PAGE);
			} else {
				memcpy(m->nv.mem + off, pages[i].data, PAGE);
				memcpy(m->nv.media + off, pages[i].data, PAGE);
			}
		}
		s->sim.stop = SIM_STOP_NONE;
		s->sim.stop_code = 0;
	} else {
		/* Booting from scratch: --reboot, or a kernel that never said
		 * it was about to read its store. */
		snprintf(path, sizeof path, "%s/phantom-crash-%ld.img",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
		uint64_t size = disk ? s->cfg.block.size_mb << 20 : s->cfg.pmem.size_mb << 20;
		if (write_image(path, size, pages, q->npages)) {
			send_failure(res_fd, q, "host: cannot write the crash image: %s", strerror(errno));
			_exit(0);
		}
		recovery_config(o, disk, path, &s->cfg, s->cmdline);
		sim_init(&s->sim, o->seed);
		s->sim.max_time = o->recovery_us * SIM_US;
		if (machine_init(m, &s->sim, &s->cfg, s->err, sizeof s->err) < 0) {
			unlink(path);
			send_failure(res_fd, q, "host: %.190s", s->err);
			_exit(0);
		}
		unlink(path);   /* mapped privately: the machine keeps its pages */
		rw.split = m->cpu;
	}
	rw.sim = &s->sim;
	m->tp.observer = on_recovery_event;
	m->tp.observer_ctx = &rw;
	machine_run(m);

	struct recovery_msg msg = {
		.q = *q, .ran = 1, .recovered = rw.recovered, .first_boot = rw.first_boot,
		.progressed = rw.progressed, .selfcheck = rw.selfcheck, .invariant = rw.invariant,
		.gen = rw.gen, .digest = rw.digest,
		.recovery_ps = rw.end > rw.begin ? rw.end - rw.begin : 0,
	};
	send_msg(res_fd, &msg);
	_exit(0);
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;
	while (len) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

struct kid {
	pid_t pid;
	struct point_req q;
};

/* Wait for one recovery child; a child that died without a verdict gets
 * one from here. */
static void server_reap(struct kid *kids, size_t *nkids, int res_fd)
{
	int status;
	pid_t pid = waitpid(-1, &status, 0);
	if (pid <= 0)
		return;
	for (size_t i = 0; i < *nkids; i++) {
		if (kids[i].pid != pid)
			continue;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char st[16];
			snprintf(st, sizeof st, "%#x", status);
			send_failure(res_fd, &kids[i].q,
				     "the recovery run died (status %s): a simulator bug", st);
		}
		kids[i] = kids[--*nkids];
		return;
	}
}

/* The fork server; never returns. */
static void __attribute__((noreturn)) server_main(const struct campaign_opts *o, int req_fd,
						     int res_fd)
{
	static struct server s;         /* big; one per process */
	s.o = o;
	s.disk = !o->cfg->pmem.enabled;
	snprintf(s.image, sizeof s.image, "%s/phantom-template-%ld.img",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	int booted = server_boot(&s);
	unlink(s.image);        /* mapped: the machine keeps it */
	struct kid *kids = calloc(o->jobs + 1, sizeof *kids);
	size_t nkids = 0;
	struct point_req q;
	while (kids && read_full(req_fd, &q, sizeof q) == 0) {
		struct page_img *pages = malloc((q.npages + 1) * sizeof *pages);
		if (!pages || read_full(req_fd, pages, q.npages * sizeof *pages))
			break;
		if (booted < 0) {
			send_failure(res_fd, &q, "host: %.190s", s.err);
			free(pages);
			continue;
		}
		while (nkids >= o->jobs)
			server_reap(kids, &nkids, res_fd);
		pid_t pid = fork();
		if (pid == 0) {
			close(req_fd);
			run_point(&s, &q, pages, res_fd);
		}
		if (pid < 0)
			send_failure(res_fd, &q, "host: fork failed: %s", strerror(errno));
		else
			kids[nkids++] = (struct kid){pid, q};
		free(pages);
	}
	while (nkids)
		server_reap(kids, &nkids, res_fd);
	_exit(0);
}

/* --- the main process's side ------------------------------------------ */

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

/* The verdict on one recovery run.  Digests come from the whole
 * reference run: a record that became durable just before the guest
 * reported it is a legal recovery, and its digest is the one the guest
 * reported a moment later. */
static void judge(struct watch *w, const struct recovery_msg *msg)
{
	const struct point_req *q = &msg->q;
	struct child_result res = {.ordinal = q->ordinal, .event = q->event, .time_ps = q->time_ps,
				   .durable_gen = q->durable_gen, .recovered_gen = msg->gen,
				   .recovery_ps = msg->recovery_ps, .verdict = VERDICT_LIVENESS};
	if (!msg->ran) {
		snprintf(res.why, sizeof res.why, "%s", msg->why);
		add_result(w, &res);
		return;
	}
	struct oracle_input in = {
		.commits = w->all, .ncommits = w->nplan,
		.have_durable = q->have_durable, .durable_gen = q->durable_gen,
		.have_reported = q->have_reported, .reported_gen = q->reported_gen,
		.recovered = msg->recovered, .first_boot = msg->first_boot,
		.recovered_gen = msg->gen, .recovered_digest = msg->digest,
		.selfcheck = msg->selfcheck, .invariant = msg->invariant,
		.progressed = msg->progressed,
	};
	struct oracle_verdict v;
	oracle_judge(&in, &v);
	res.verdict = (uint8_t)v.verdict;
	snprintf(res.why, sizeof res.why, "%s", v.why);
	add_result(w, &res);
}

/* Take whatever verdicts have arrived (blocking: wait for at least one).
 * Returns -1 once no writer is left. */
static int read_results(struct watch *w, bool block)
{
	for (;;) {
		ssize_t n = read(w->res_fd, w->resbuf + w->resfill, sizeof w->resbuf - w->resfill);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!block)
				return 0;
			struct pollfd pf = {.fd = w->res_fd, .events = POLLIN};
			poll(&pf, 1, -1);
			continue;
		}
		if (n <= 0) {
			w->server_gone = true;
			return -1;
		}
		w->resfill += (size_t)n;
		while (w->resfill >= sizeof(struct recovery_msg)) {
			struct recovery_msg msg;
			memcpy(&msg, w->resbuf, sizeof msg);
			memmove(w->resbuf, w->resbuf + sizeof msg, w->resfill - sizeof msg);
			w->resfill -= sizeof msg;
			msg.why[sizeof msg.why - 1] = 0;
			judge(w, &msg);
			block = false;
		}
		if (!block)
			return 0;
	}
}

/* Send len bytes to the server, taking verdicts meanwhile (the children
 * must never block on a full result pipe while the server waits for
 * them and we wait for the server). */
static void send_to_server(struct watch *w, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	while (len && !w->server_gone) {
		/* A checkpoint only sends: the verdicts are the main process's. */
		struct pollfd pf[2] = {{.fd = w->req_fd, .events = POLLOUT},
				       {.fd = w->in_ckpt ? -1 : w->res_fd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[1].revents)
			read_results(w, false);
		if (pf[0].revents & (POLLERR | POLLHUP)) {
			w->server_gone = true;
			return;
		}
		if (!(pf[0].revents & POLLOUT))
			continue;
		ssize_t n = write(w->req_fd, b, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			w->server_gone = true;
			return;
		}
		b += n;
		len -= (size_t)n;
	}
}

/* Crash point w->next: the state now, to the server. */
static void take_point(struct watch *w)
{
	uint64_t ordinal = w->ordinals[w->next];
	crash_image(w, ordinal);
	struct point_req q = {
		.ordinal = ordinal, .event = w->points[w->next], .time_ps = w->m->sim->now,
		.durable_gen = w->durable_gen, .reported_gen = w->reported_gen,
		.npages = w->img.n, .have_durable = w->have_durable, .have_reported = w->have_reported,
	};
	w->next++;
	send_to_server(w, &q, sizeof q);
	send_to_server(w, w->img.pages, w->img.n * sizeof *w->img.pages);
}

/* In a checkpoint: report how far it got and end. */
static void __attribute__((noreturn)) checkpoint_finish(struct watch *w, uint64_t events)
{
	struct ck_done d = {.sent = w->next, .events = events};
	if (write(w->ck_done_fd, &d, sizeof d) != sizeof d)
		_exit(2);
	_exit(0);
}

/* Pass 1, before event seq: fork a checkpoint, a copy of this process
 * stopped here.  Pass 2 is the same run again, and most of its host time
 * went into stretches with few persistence events and so few points (the
 * guest's boot); a stretch of points is now run from the checkpoint
 * before it, and the stretches between need no re-run.
 *
 * Pass 2 also tracks durability and the guest's reports.  Here they are
 * still as at the start (nothing reported yet; whether a record became
 * durable before seq is checked once pass 1 knows where the records are),
 * so a checkpoint needs only the pass-1 results and its points: it waits
 * for them, or for the main process to close the pipe (not needed). */
static void checkpoint_here(struct watch *w, uint64_t seq)
{
	if (w->o->reboot || w->ck_off || w->nplan || w->nck == CKPT_MAX ||
	    (w->nck && w->m->sim->insns - w->ck_insns < CKPT_INSNS))
		return;
	if (!w->ck && !(w->ck = calloc(CKPT_MAX, sizeof *w->ck)))
		abort();
	int ctl[2], done[2];
	if (pipe(ctl)) {
		w->ck_off = true;
		return;
	}
	if (pipe(done)) {
		close(ctl[0]);
		close(ctl[1]);
		w->ck_off = true;
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0) {
		close(ctl[0]);
		close(done[1]);
		if (pid < 0) {
			close(ctl[1]);
			close(done[0]);
			w->ck_off = true;
			return;
		}
		w->ck[w->nck++] = (struct checkpoint){.pid = pid, .ctl = ctl[1], .done = done[0],
						       .seq = seq};
		w->ck_insns = w->m->sim->insns;
		return;
	}
	/* The checkpoint.  Only the main process may hold the other
	 * checkpoints' pipes (they end when it closes them) or take
	 * verdicts. */
	close(ctl[1]);
	close(done[0]);
	for (size_t i = 0; i < w->nck; i++) {
		close(w->ck[i].ctl);
		close(w->ck[i].done);
	}
	close(w->res_fd);
	w->res_fd = -1;
	w->nck = 0;
	w->in_ckpt = true;
	w->ck_done_fd = done[1];
	struct ck_handoff h;
	if (read_full(ctl[0], &h, sizeof h))
		_exit(0);
	struct planned_commit *plan = malloc((h.nplan + 1) * sizeof *plan);
	uint64_t *pts = malloc((2 * h.npoints + 1) * sizeof *pts);
	if (!plan || !pts || read_full(ctl[0], plan, h.nplan * sizeof *plan) ||
	    read_full(ctl[0], pts, 2 * h.npoints * sizeof *pts))
		_exit(2);
	close(ctl[0]);
	free(w->plan);
	w->plan = plan;
	w->nplan = w->capplan = h.nplan;
	w->points = pts;
	w->ordinals = pts + h.npoints;
	w->npoints = h.npoints;
	w->next = 0;
	w->reference = false;   /* from here on, this is pass 2 */
}

/* Before event seq: crash points seq - 1 (and any the run passed by). */
static void on_pre_event(void *ctx, uint64_t seq)
{
	struct watch *w = ctx;
	if (w->reference)
		checkpoint_here(w, seq);
	if (w->reference)
		return;
	while (w->next < w->npoints && w->points[w->next] < seq)
		take_point(w);
	/* A checkpoint's stretch ends with its last point. */
	if (w->in_ckpt && w->next == w->npoints)
		checkpoint_finish(w, persist_event_count(w->ev));
}

static void on_persist_event(void *ctx, const struct persist_event *ev)
{
	struct watch *w = ctx;
	if (!w->reference) {
		promote(w);
		return;
	}
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
}

/* One run of the workload from an empty image at `image`; *events gets
 * the number of persistence events it made. */
static int workload_run(struct watch *w, const char *image, uint64_t *events,
			char *err, size_t errlen)
{
	struct config cfg = *w->o->cfg;
	if (cfg.pmem.enabled)
		cfg.pmem.image = (char *)image;
	else
		cfg.block.image = (char *)image;
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
	w->disk = !m.have_nv && m.have_blk;
	if (!m.have_nv && !m.have_blk) {
		snprintf(err, errlen, "%s: campaigns need persistent memory (pmem.enabled) or a "
			 "block device (block.enabled)", w->o->config_path);
		machine_free(&m, e2, sizeof e2);
		sim_free(&sim);
		unlink(image);
		return -1;
	}
	if (w->disk) {
		/* Block writes and flushes are the events; a model over an
		 * empty region counts them. */
		if (persist_init(&w->blkev, &sim, 0, 0, NULL, NULL, PDOMAIN_ADR) < 0)
			abort();
		m.bd.pm = &w->blkev;
		w->ev = &w->blkev;
	} else {
		w->ev = &m.nv.pm;
	}
	w->m = &m;
	w->next_durable = 0;
	w->have_durable = w->have_reported = false;
	w->durable_gen = w->reported_gen = 0;
	m.tp.observer = on_guest_event;
	m.tp.observer_ctx = w;
	persist_set_observer(w->ev, on_persist_event, w);
	persist_set_pre_observer(w->ev, on_pre_event, w);
	machine_run(&m);
	*events = persist_event_count(w->ev);
	/* Points at or after the last event: the state at the end. */
	while (!w->reference && w->next < w->npoints && w->points[w->next] <= *events)
		take_point(w);
	if (w->in_ckpt)
		checkpoint_finish(w, *events);
	m.bd.pm = NULL;
	machine_free(&m, e2, sizeof e2);
	if (w->disk)
		persist_free(&w->blkev);
	sim_free(&sim);
	unlink(image);
	w->m = NULL;
	w->ev = NULL;
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A checkpoint not needed: closing its pipe ends it. */
static void checkpoint_drop(struct checkpoint *ck)
{
	if (ck->ctl >= 0)
		close(ck->ctl);
	if (ck->done >= 0)
		close(ck->done);
	if (ck->pid > 0)
		waitpid(ck->pid, NULL, 0);
	*ck = (struct checkpoint){.pid = -1, .ctl = -1, .done = -1};
}

/* Points a..b-1 from checkpoint ck; *d says how many it took.  Verdicts
 * are taken meanwhile: the children must never block on a full result
 * pipe while the server waits for them and the checkpoint for the
 * server.  False if the checkpoint died. */
static bool checkpoint_go(struct watch *w, struct checkpoint *ck, size_t a, size_t b,
			  struct ck_done *d)
{
	struct ck_handoff h = {.nplan = w->nplan, .npoints = b - a};
	bool ok = write_full(ck->ctl, &h, sizeof h) == 0 &&
		  write_full(ck->ctl, w->plan, w->nplan * sizeof *w->plan) == 0 &&
		  write_full(ck->ctl, w->points + a, (b - a) * sizeof *w->points) == 0 &&
		  write_full(ck->ctl, w->ordinals + a, (b - a) * sizeof *w->ordinals) == 0;
	close(ck->ctl);
	ck->ctl = -1;
	while (ok) {
		struct pollfd pf[2] = {{.fd = ck->done, .events = POLLIN},
				       {.fd = w->server_gone ? -1 : w->res_fd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[1].revents)
			read_results(w, false);
		if (pf[0].revents) {
			ok = read_full(ck->done, d, sizeof *d) == 0;
			break;
		}
	}
	checkpoint_drop(ck);
	return ok;
}

/* What became of each point in pass 2. */
enum { POINT_NOT_REACHED, POINT_SENT, POINT_LOST };

/* Pass 2 from the checkpoints: the points from each one's event up to the
 * next one's, one checkpoint at a time.  A checkpoint serves if pass 2
 * would still have its starting state there: taken before the first
 * commit's record was written (and, as pass 1 took none after a commit
 * report, before any report).  False if none serves the first point:
 * then pass 2 runs from boot. */
static bool checkpoints_run(struct watch *w, uint8_t *state, uint64_t *events)
{
	uint64_t limit = UINT64_MAX;
	if (w->nplan && w->plan[0].root_len && w->plan[0].write_start)
		limit = w->plan[0].write_start;
	size_t use = 0;
	while (use < w->nck && w->ck[use].seq <= limit)
		use++;
	/* Point p is taken right before event p + 1. */
	if (use && w->npoints && w->points[0] + 1 < w->ck[0].seq)
		use = 0;
	for (size_t k = use; k < w->nck; k++)
		checkpoint_drop(&w->ck[k]);
	if (!use)
		return false;
	size_t a = 0;
	for (size_t k = 0; k < use; k++) {
		size_t b = a;
		if (k + 1 == use)
			b = w->npoints;
		else
			while (b < w->npoints && w->points[b] + 1 < w->ck[k + 1].seq)
				b++;
		if (b == a) {
			checkpoint_drop(&w->ck[k]);
			continue;
		}
		struct ck_done d = {0};
		bool ok = checkpoint_go(w, &w->ck[k], a, b, &d);
		for (size_t i = a; i < b; i++)
			state[i] = ok && i - a < d.sent ? POINT_SENT : ok ? POINT_NOT_REACHED : POINT_LOST;
		if (ok)
			*events = d.events;
		a = b;
	}
	return true;
}

int campaign_run(const struct campaign_opts *o, struct report *rep,
		 struct campaign_stats *st, char *err, size_t errlen)
{
	struct watch w = {.o = o, .rep = rep, .req_fd = -1, .res_fd = -1};
	char image[96];
	uint64_t *points = NULL, *mine = NULL, *ordinals = NULL, events = 0;
	int rc = -1;
	pid_t server = -1;
	snprintf(image, sizeof image, "%s/phantom-campaign-%ld.img",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	*st = (struct campaign_stats){0};

	if (!o->cfg->pmem.enabled && !o->cfg->block.enabled) {
		snprintf(err, errlen, "%s: campaigns need persistent memory (pmem.enabled) or a "
			 "block device (block.enabled)", o->config_path);
		goto out;
	}

	/* The fork server boots its machine while the reference run goes on. */
	int req[2], res[2];
	if (pipe(req)) {
		snprintf(err, errlen, "campaign: pipe: %s", strerror(errno));
		goto out;
	}
	if (pipe(res)) {
		snprintf(err, errlen, "campaign: pipe: %s", strerror(errno));
		close(req[0]);
		close(req[1]);
		goto out;
	}
	fflush(NULL);
	server = fork();
	if (server == 0) {
		close(req[1]);
		close(res[0]);
		server_main(o, req[0], res[1]);
	}
	close(req[0]);
	close(res[1]);
	w.req_fd = req[1];
	w.res_fd = res[0];
	if (server < 0) {
		snprintf(err, errlen, "campaign: fork: %s", strerror(errno));
		goto out;
	}
	fcntl(w.req_fd, F_SETFL, fcntl(w.req_fd, F_GETFL) | O_NONBLOCK);
	fcntl(w.res_fd, F_SETFL, fcntl(w.res_fd, F_GETFL) | O_NONBLOCK);
	/* A dead server must not kill us with SIGPIPE. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);

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

	/* Pass 2: the same run, sending every point's crash state; from the
	 * checkpoints if they serve, else from boot. */
	clock_gettime(CLOCK_MONOTONIC, &w.t0);
	w.points = mine;
	w.ordinals = ordinals;
	w.npoints = nmine;
	uint64_t events2 = events;
	uint8_t *state = calloc(nmine + 1, 1);
	if (!state)
		abort();
	int wrc = 0;
	if (!checkpoints_run(&w, state, &events2)) {
		wrc = workload_run(&w, image, &events2, err, errlen);
		for (size_t i = 0; i < w.next; i++)
			state[i] = POINT_SENT;
	}
	close(w.req_fd);
	w.req_fd = -1;
	size_t sent = 0;
	for (size_t i = 0; i < nmine; i++)
		sent += state[i] == POINT_SENT;
	while (w.done < sent && read_results(&w, true) == 0)
		;
	if (wrc) {
		free(state);
		goto out;
	}
	/* A point without a verdict: the server or a child vanished. */
	if (w.done < sent) {
		bool *have = calloc(n + 1, 1);
		for (size_t i = 0; have && i < rep->n; i++)
			if (rep->r[i].ordinal <= n)
				have[rep->r[i].ordinal] = true;
		for (size_t i = 0; have && i < nmine; i++) {
			if (state[i] != POINT_SENT || have[w.ordinals[i]])
				continue;
			struct child_result r = {.ordinal = w.ordinals[i], .event = w.points[i],
						 .verdict = VERDICT_LIVENESS};
			snprintf(r.why, sizeof r.why, "no verdict: the fork server died");
			add_result(&w, &r);
		}
		free(have);
	}
	/* Points past the end of the run cannot happen in a deterministic
	 * simulator; if one did, say so rather than drop it. */
	for (size_t i = 0; i < nmine; i++) {
		if (state[i] == POINT_SENT)
			continue;
		struct child_result r = {.ordinal = w.ordinals[i], .event = w.points[i],
					 .verdict = VERDICT_LIVENESS};
		if (state[i] == POINT_LOST)
			snprintf(r.why, sizeof r.why, "no crash state: the crash-point pass died "
				 "before event %" PRIu64 ": a simulator bug", w.points[i]);
		else
			snprintf(r.why, sizeof r.why, "the run ended before event %" PRIu64
				 " (%" PRIu64 " events): not deterministic?", w.points[i], events2);
		add_result(&w, &r);
	}
	free(state);
	/* Verdicts arrive in any order; the report lists points in order. */
	qsort(rep->r, rep->n, sizeof *rep->r, by_ordinal);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->host_seconds = (double)(t1.tv_sec - w.t0.tv_sec) + (double)(t1.tv_nsec - w.t0.tv_nsec) / 1e9;
	rc = 0;
out:
	for (size_t k = 0; k < w.nck; k++)
		checkpoint_drop(&w.ck[k]);
	free(w.ck);
	if (w.req_fd >= 0)
		close(w.req_fd);
	if (w.res_fd >= 0)
		close(w.res_fd);
	if (server > 0) {
		waitpid(server, NULL, 0);
		sigaction(SIGPIPE, &old, NULL);
	}
	free(points);
	free(mine);
	free(ordinals);
	image_free(&w.img);
	free(w.plan);
	free(w.store_ev);
	free(w.store_pa);
	free(w.all);
	return rc;
}
