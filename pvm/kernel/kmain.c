/* pvm/kernel/kmain.c: boot flow and the main loop.
 *
 *   console, command line, CPU tables, memory map, timer
 *   -> store (pmem | disk | none) -> object space window
 *   -> recover the newest snapshot (workload attach) or first boot
 *   -> the kernel threads (sched.c), once round per timer tick:
 *        snapshot: every snapshot_ms ticks (or on request) pause for a
 *        snapshot; write up to SNAP_BATCH pages of one in progress; in
 *        other ticks write up to `pageout` dirty pages behind;
 *        vm: run the workload for `work` steps, or with work=0 in quanta
 *        until the tick ends (run() returns at a safe point).
 *   -> after `snapshots` commits, report and power off cleanly.
 */
#include "pvm/kernel/kernel.h"
#include "pvm/kernel/workload.h"
#include "persist/snapshot.h"

#define MB_BOOT_MAGIC   0x2BADB002u
#define SNAP_BATCH      256     /* pages written per tick while a snapshot is in progress */
#define WORK_QUANTUM    1024    /* work=0: steps per run() call */

static char cmdline_buf[1024];
static volatile bool snapshot_requested;
static uint64_t tsc_per_ms;

void snapshot_request(void)
{
	snapshot_requested = true;
}

static void copy_cmdline(const uint8_t *mbi)
{
	uint32_t flags = *(const uint32_t *)mbi;
	if (!(flags & (1u << 2)))
		return;
	const char *s = (const char *)(uintptr_t)*(const uint32_t *)(mbi + 16);
	strncpy0(cmdline_buf, s, sizeof cmdline_buf);
}

static void run_selftest(const char *t)
{
	if (!*t)
		return;
	kprintf("selftest: %s\n", t);
	if (!strcmp(t, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(t, "pf"))
		(void)*(volatile uint64_t *)0x00007F0000001234ull;     /* not mapped */
	else if (!strcmp(t, "entry64"))
		return;
	else if (!strcmp(t, "gp"))
		(void)*(volatile uint64_t *)0x8000000000000000ull;     /* non-canonical */
	else
		panic("selftest: unknown '%s' (ud, pf, gp, entry64)", t);
	panic("selftest: %s did not fault", t);
}

/* selftest=entry64: re-enter through _start64, phantom-sim's ELF64 entry,
 * the way its loader does (long mode, EAX = magic, EBX = info), to check
 * that path under QEMU too.  Nothing is allocated yet, so the second
 * kmain starts from the same state; .bss is not cleared on entry, so the
 * flag survives. */
static bool entry64_done;
extern char _start64[];

static void entry64_selftest(uint32_t info)
{
	if (strcmp(cmdline.selftest, "entry64"))
		return;
	if (entry64_done) {
		kprintf("selftest: entry64: kmain re-entered through _start64\n");
		cmdline.selftest[0] = 0;
		return;
	}
	entry64_done = true;
	kprintf("selftest: entry64: jumping to _start64\n");
	__asm__ volatile("cli; jmp *%2" :: "a"(MB_BOOT_MAGIC), "b"(info), "r"(_start64) : "memory");
	__builtin_unreachable();
}

/* TSC ticks per millisecond, measured over 10 PIT ticks: only to print
 * latencies in microseconds; nothing depends on it. */
static void calibrate_tsc(void)
{
	uint64_t t = timer_ms();
	while (timer_ms() == t)
		sti_hlt();
	uint64_t c0 = rdtsc(), t0 = timer_ms();
	while (timer_ms() < t0 + 10)
		sti_hlt();
	tsc_per_ms = (rdtsc() - c0) / 10;
	if (!tsc_per_ms)
		tsc_per_ms = 1;
	kprintf("tsc: %lu kHz (against the PIT; latencies below are TSC cycles)\n", tsc_per_ms);
}

static struct store *open_store(void)
{
	const char *b = cmdline.backend;
	if (!strcmp(b, "auto"))
		b = memory_map.pmem_size ? "pmem" : "disk";
	if (!strcmp(b, "pmem")) {
		if (!memory_map.pmem_size)
			panic("backend=pmem: no persistent region (no type-7 range, no pmem=BASE,SIZE)");
		return store_pmem_open(memory_map.pmem_base, memory_map.pmem_size);
	}
	if (!strcmp(b, "disk")) {
		struct store *s = store_disk_open();
		if (!s && !strcmp(cmdline.backend, "disk"))
			panic("backend=disk: no usable virtio-blk device");
		if (!s)
			kprintf("persist: no store found: running without snapshots\n");
		return s;
	}
	kprintf("persist: backend=none: running without snapshots\n");
	return 0;
}

struct latency { uint64_t n, min, max, sum; };

static void latency_add(struct latency *l, uint64_t v)
{
	if (!l->n || v < l->min)
		l->min = v;
	if (v > l->max)
		l->max = v;
	l->sum += v;
	l->n++;
}

static void latency_print(const char *what, const struct latency *l)
{
	if (!l->n)
		return;
	kprintf("stats: %-7s tsc min %lu avg %lu max %lu (~%lu us avg)\n", what, l->min,
		l->sum / l->n, l->max, l->sum / l->n * 1000 / tsc_per_ms);
}

/* Restore the newest snapshot and attach its workload, or start the
 * workload on a fresh object space. */
static const struct workload *start_workload(const struct workload *wl, uint64_t size)
{
	char stored[32] = "", wanted[32];
	uint32_t selfcheck = 0;
	strncpy0(wanted, wl->name, sizeof wanted);
	if (persist_recover(stored, &selfcheck) != RECOVER_OK) {
		trace_first_boot();
		if (wl->boot((void *)OBJSPACE_BASE, size, cmdline.seed) < 0)
			panic("workload: %s failed to boot", wl->name);
		kprintf("workload: %s started (seed %lu)\n", wl->name, cmdline.seed);
		return wl;
	}
	wl = workload_find(stored);
	if (!wl)
		panic("workload: the snapshot holds '%s', which this kernel cannot run", stored);
	if (strcmp(stored, wanted))
		kprintf("workload: the snapshot holds '%s' (not '%s'): resuming it\n", stored, wanted);
	int rc = wl->attach((void *)OBJSPACE_BASE, size);
	uint32_t inv = rc < 0 ? 2 : (wl->check() ? 1 : 0);
	struct persist_stats ps;
	persist_get_stats(&ps);
	trace_recovery_end(ps.gen, ps.digest, selfcheck, inv);
	if (rc < 0)
		panic("workload: %s could not attach to the restored object space", wl->name);
	kprintf("workload: %s resumed at gen %lu\n", wl->name, ps.gen);
	return wl;
}

static long run_one_tick(const struct workload *wl, uint64_t t)
{
	if (cmdline.work)
		return wl->run(cmdline.work);
	/* Flat out: quanta of WORK_QUANTUM steps until the tick ends. */
	long r;
	do
		r = wl->run(WORK_QUANTUM);
	while (r > 0 && timer_ms() == t);
	return r;
}

static void finish(const struct workload *wl, uint64_t snapshots, const struct latency *pause,
		   const struct latency *commit, const struct latency *total)
{
	int inv = wl->check();
	kprintf("workload: invariant %s\n", inv ? "VIOLATED" : "ok");
	latency_print("pause", pause);
	latency_print("commit", commit);
	latency_print("total", total);
	kprintf("done: %lu snapshots\n", snapshots);
	poweroff(inv ? EXIT_PANIC : EXIT_CLEAN);
}

/* The main loop is three cooperative threads (sched.c), switched once
 * round the ring per timer tick, in this order:
 *   idle      (kmain's own stack) waits for the next tick with hlt;
 *   snapshot  pauses for a snapshot when one is due (or requested) and
 *             writes up to SNAP_BATCH pages of the one in progress;
 *   vm        runs the workload for its quantum, which returns at a safe
 *             point, and powers off once `snapshots` commits are done.
 * The writer goes before the VM: a snapshot begun (paused and resumed)
 * is written and committed right away, a batch per tick, so its latency
 * is its own work, not the workload's quantum; the VM has the rest of
 * the tick.  Each thread yields only between its units of work, so the
 * pause always finds the VM at a safe point. */
static struct {
	const struct workload *wl;
	bool have_store;
	uint64_t tick;                  /* the tick this round of the ring runs in */
	uint64_t commits, intervals;
	struct latency pause, commit, total;
} loop;

static void __attribute__((noreturn)) snapshot_thread(void *unused)
{
	(void)unused;
	/* Snapshots begin on ticks that are multiples of snapshot_ms, so a
	 * workload can tell where in the interval it is (workload=dirty). */
	uint64_t next_snap = (timer_ms() / cmdline.snapshot_ms + 1) * cmdline.snapshot_ms;
	for (;; sched_yield()) {
		if (!persist_busy() && (timer_ms() >= next_snap || snapshot_requested)) {
			snapshot_requested = false;
			next_snap = (timer_ms() / cmdline.snapshot_ms + 1) * cmdline.snapshot_ms;
			loop.intervals++;
			if (loop.have_store)
				persist_begin();
		} else if (!persist_busy() && loop.have_store) {
			/* The pages the workload dirtied in earlier ticks (this
			 * tick's run has not started): never in a tick that
			 * begins a snapshot, which takes them itself. */
			if (persist_pageout(cmdline.pageout) < 0)
				panic("persist: write-behind failed: I/O error");
		}
		if (!persist_busy())
			continue;
		int rc = persist_step(SNAP_BATCH);
		if (rc < 0)
			panic("persist: snapshot failed: I/O error");
		if (rc == 1) {
			struct persist_stats ps;
			persist_get_stats(&ps);
			latency_add(&loop.pause, ps.last_pause_tsc);
			latency_add(&loop.commit, ps.last_commit_tsc);
			latency_add(&loop.total, ps.last_total_tsc);
			loop.commits++;
		}
	}
}

static void __attribute__((noreturn)) vm_thread(void *unused)
{
	(void)unused;
	for (;; sched_yield()) {
		long r = run_one_tick(loop.wl, loop.tick);
		if (r < 0)
			panic("workload: %s failed (%ld)", loop.wl->name, r);
		uint64_t done = loop.have_store ? loop.commits : loop.intervals;
		if (cmdline.snapshots && done >= cmdline.snapshots && !persist_busy())
			finish(loop.wl, done, &loop.pause, &loop.commit, &loop.total);
	}
}

static void __attribute__((noreturn)) main_loop(const struct workload *wl, bool have_store)
{
	loop.wl = wl;
	loop.have_store = have_store;
	sched_init();
	kthread_create("snapshot", snapshot_thread, 0);
	kthread_create("vm", vm_thread, 0);
	for (;;) {
		loop.tick = timer_ms();
		sched_yield();          /* once round the ring: snapshot, vm */
		while (timer_ms() == loop.tick)
			sti_hlt();
	}
}

void kmain(uint32_t magic, uint32_t info)
{
	uart_init();
	trace_init();
	kprintf("\nPhantom guest kernel (phantom-sim), Multiboot entry\n");
	if (magic != MB_BOOT_MAGIC)
		panic("not started by a Multiboot loader (eax=0x%x)", magic);
	const uint8_t *mbi = (const uint8_t *)(uintptr_t)info;
	copy_cmdline(mbi);
	kprintf("cmdline: %s\n", cmdline_buf);
	cmdline_parse(cmdline_buf);
	entry64_selftest(info);
	cpu_init();
	paging_init();
	trace_boot();
	kprintf("cpu: %s, flush: clwb=%d clflushopt=%d clflush=%d\n", cpu_features.vendor,
		cpu_features.clwb, cpu_features.clflushopt, cpu_features.clflush);
	memory_init(mbi);
	timer_init();
	sti();
	pmem_init();
	run_selftest(cmdline.selftest);
	calibrate_tsc();

	/* The object space is mapped (its frames zeroed) before the store is
	 * read, so everything up to trace_store_open() is independent of what
	 * the store holds; a store formatted for another size is remapped. */
	struct store *store = open_store();
	uint64_t want = cmdline.objspace_mb * (1ull << 20) / PAGE_SIZE;
	uint64_t *pte = objspace_map(want);
	trace_store_open();
	uint64_t npages = persist_probe(store, want);
	if (npages != want) {
		objspace_unmap(pte, want);
		pte = objspace_map(npages);
	}
	uint64_t size = npages * PAGE_SIZE;
	kprintf("objspace: 0x%lx-0x%lx (%lu MiB, %lu pages)\n", OBJSPACE_BASE,
		OBJSPACE_BASE + size - 1, size >> 20, npages);
	const struct workload *wl = workload_find(cmdline.workload);
	if (!wl)
		panic("workload: unknown '%s' (ccounter, cbank, or a PVM workload: counter, bank, kv, list)",
		      cmdline.workload);
	persist_init(store, pte, npages, wl->name);
	wl = start_workload(wl, size);
	main_loop(wl, store != 0);
}
