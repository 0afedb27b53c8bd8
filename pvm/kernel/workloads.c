/* pvm/kernel/workloads.c: the workloads the kernel can run.
 *
 * The PVM workloads call the VM through pvm/pvm.h.  Its functions are
 * declared weak here, so the kernel also links (and runs its C self-test
 * workloads) while the VM's sources are not part of the build.
 *
 * The self-tests keep everything in the object space, laid out by page:
 * page 0 holds the header (magic, PRNG state, counters), pages 1..n-1 one
 * record each, so every step dirties a few scattered pages, like an
 * object heap does.
 */
#include "pvm/kernel/workload.h"
#include "pvm/pvm.h"

#pragma weak pvm_boot_fresh
#pragma weak pvm_attach
#pragma weak pvm_run
#pragma weak pvm_check_invariant
#pragma weak pvm_panic_message

/* --- the PVM ------------------------------------------------------------ */

static char pvm_workload[32];

static void host_trace(unsigned code, const uint32_t *args, unsigned nargs)
{
	trace_event(code, args, (int)nargs);
	if (code == ABI_EV_WORKLOAD_OP && nargs >= 2)
		kprintf("TRACE workload_op kind=%u count=%u\n", args[0], args[1]);
	else
		kprintf("TRACE event=%u nargs=%u\n", code, nargs);
}

static void host_console(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

static uint64_t host_time_ns(void)
{
	return timer_ms() * 1000000ull;
}

static const struct pvm_host pvm_host_ops = {
	.trace = host_trace, .console = host_console, .time_ns = host_time_ns,
};

static int vm_boot(void *base, uint64_t size, uint64_t seed)
{
	int rc = pvm_boot_fresh(base, size, pvm_workload, seed, &pvm_host_ops);
	if (rc < 0 && pvm_panic_message)
		kprintf("pvm: boot failed (%d): %s\n", rc, pvm_panic_message());
	return rc;
}

static int vm_attach(void *base, uint64_t size)
{
	int rc = pvm_attach(base, size, &pvm_host_ops);
	if (rc < 0 && pvm_panic_message)
		kprintf("pvm: attach failed (%d): %s\n", rc, pvm_panic_message());
	return rc;
}

static long vm_run(uint64_t budget)
{
	long rc = pvm_run(budget);
	if (rc < 0 && pvm_panic_message)
		kprintf("pvm: panic (%ld): %s\n", rc, pvm_panic_message());
	return rc;
}

static int vm_check(void)
{
	return pvm_check_invariant();
}

/* --- self-test workloads ---------------------------------------------- */

#define WL_MAGIC        0x4B4C574C45534B50ull   /* "PKSELWLK" */

struct wl_header {
	uint64_t magic;
	uint64_t kind;          /* 1 ccounter, 2 cbank */
	uint64_t npages;
	uint64_t rng;           /* xorshift64* state: persistent, so runs resume */
	uint64_t ops;
	uint64_t total;         /* cbank: the balance every account started with, summed */
	uint64_t epoch;         /* dirty: the snapshot interval of the last batch, plus one */
	uint64_t batch;         /* dirty: batches so far */
	uint64_t done;          /* dirty: records written in this interval */
};

struct wl_record {
	uint64_t value;         /* ccounter: hits; cbank: balance */
	uint64_t touched;       /* operation number of the last change */
};

static struct wl_header *hdr;

static struct wl_record *record(uint64_t i)
{
	return (struct wl_record *)((uintptr_t)hdr + i * PAGE_SIZE);
}

static uint64_t next_rand(void)
{
	/* xorshift64* (Vigna 2016), state in the object space. */
	uint64_t x = hdr->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	hdr->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static int self_boot(void *base, uint64_t size, uint64_t seed, uint64_t kind)
{
	hdr = base;
	if (size < 2 * PAGE_SIZE)
		return -1;
	hdr->magic = WL_MAGIC;
	hdr->kind = kind;
	hdr->npages = size / PAGE_SIZE;
	hdr->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	hdr->ops = 0;
	hdr->total = 0;
	if (kind == 2) {
		/* Only a stripe of accounts gets money up front, so a fresh
		 * space is mostly zero pages (like an empty heap). */
		for (uint64_t i = 1; i < hdr->npages; i += 64) {
			record(i)->value = 1000;
			hdr->total += 1000;
		}
	}
	return 0;
}

static int self_attach(void *base, uint64_t size, uint64_t kind)
{
	hdr = base;
	if (hdr->magic != WL_MAGIC || hdr->kind != kind || hdr->npages != size / PAGE_SIZE)
		return -1;
	return 0;
}

static int ccounter_boot(void *b, uint64_t s, uint64_t seed) { return self_boot(b, s, seed, 1); }
static int ccounter_attach(void *b, uint64_t s) { return self_attach(b, s, 1); }
static int cbank_boot(void *b, uint64_t s, uint64_t seed) { return self_boot(b, s, seed, 2); }
static int cbank_attach(void *b, uint64_t s) { return self_attach(b, s, 2); }

/* ABI_EV_WORKLOAD_OP every OP_REPORT operations: kind 0x101 (ccounter)
 * or 0x102 (cbank), count = operations so far (low 32 bits).  The PVM
 * workloads report kinds 1-4 themselves. */
#define OP_REPORT 4096

static void report_op(void)
{
	if (hdr->ops % OP_REPORT == 0)
		trace_workload_op((uint32_t)(0x100 + hdr->kind), (uint32_t)hdr->ops);
}

static long ccounter_run(uint64_t budget)
{
	for (uint64_t k = 0; k < budget; k++) {
		uint64_t i = 1 + next_rand() % (hdr->npages - 1);
		hdr->ops++;
		record(i)->value++;
		record(i)->touched = hdr->ops;
		report_op();
	}
	return (long)budget;
}

static int ccounter_check(void)
{
	uint64_t sum = 0;
	for (uint64_t i = 1; i < hdr->npages; i++)
		sum += record(i)->value;
	return hdr->magic == WL_MAGIC && sum == hdr->ops ? 0 : 1;
}

static long cbank_run(uint64_t budget)
{
	uint64_t n = hdr->npages - 1;
	for (uint64_t k = 0; k < budget; k++) {
		uint64_t from = 1 + next_rand() % n, to = 1 + next_rand() % n;
		struct wl_record *a = record(from), *b = record(to);
		uint64_t amount = a->value ? next_rand() % (a->value + 1) : 0;
		hdr->ops++;
		report_op();
		if (from == to || amount == 0)
			continue;
		a->value -= amount;
		b->value += amount;
		a->touched = b->touched = hdr->ops;
	}
	return (long)budget;
}

static int cbank_check(void)
{
	uint64_t sum = 0;
	for (uint64_t i = 1; i < hdr->npages; i++)
		sum += record(i)->value;
	return hdr->magic == WL_MAGIC && sum == hdr->total ? 0 : 1;
}

/* dirty: a snapshot benchmark.  In each snapshot interval (a window of
 * snapshot_ms ticks; snapshots begin on its first tick) it writes to
 * dirty_pages distinct pages: the header and dirty_pages - 1 records
 * chosen at random, each incremented, so every snapshot has exactly that
 * many dirty pages, spread over the whole space.  dirty_mode says when in
 * the interval: burst, all in its first tick; spread, evenly over its
 * ticks; late, all in its last tick, right before the next pause (the
 * worst case for write-behind).  Invariant: the counts sum to the number
 * of increments (as ccounter). */
static int dirty_boot(void *b, uint64_t s, uint64_t seed) { return self_boot(b, s, seed, 3); }
static int dirty_attach(void *b, uint64_t s) { return self_attach(b, s, 3); }

static long dirty_run(uint64_t budget)
{
	uint64_t ms = cmdline.snapshot_ms, now = timer_ms();
	uint64_t epoch = now / ms + 1, phase = now % ms;
	uint64_t n = hdr->npages - 1;
	uint64_t want = cmdline.dirty_pages - 1 < n ? cmdline.dirty_pages - 1 : n;
	if (epoch != hdr->epoch) {
		hdr->epoch = epoch;
		hdr->batch++;
		hdr->done = 0;
	}
	/* Records written by the end of this tick; the header counts as the
	 * first page written in the interval. */
	uint64_t target = want;
	if (!strcmp(cmdline.dirty_mode, "spread"))
		target = want * (phase + 1) / ms;
	else if (!strcmp(cmdline.dirty_mode, "late"))
		target = phase + 1 == ms ? want : 0;
	for (uint64_t k = hdr->done; k < target;) {
		struct wl_record *r = record(1 + next_rand() % n);
		if (r->touched == hdr->batch)
			continue;       /* already written in this batch: reading faults nothing */
		r->value++;
		r->touched = hdr->batch;
		hdr->ops++;
		hdr->done = ++k;
	}
	trace_workload_op(0x103, (uint32_t)hdr->ops);
	return (long)budget;
}

static const struct workload selftests[] = {
	{ "ccounter", ccounter_boot, ccounter_attach, ccounter_run, ccounter_check },
	{ "cbank", cbank_boot, cbank_attach, cbank_run, cbank_check },
	{ "dirty", dirty_boot, dirty_attach, dirty_run, ccounter_check },
};

static const char *const pvm_names[] = { "counter", "bank", "kv", "list" };

const struct workload *workload_find(const char *name)
{
	static struct workload vm;
	bool have_vm = pvm_boot_fresh && pvm_attach && pvm_run && pvm_check_invariant;
	if (!*name)
		name = have_vm ? "bank" : "cbank";
	for (size_t i = 0; i < ARRAY_LEN(selftests); i++)
		if (!strcmp(name, selftests[i].name))
			return &selftests[i];
	for (size_t i = 0; i < ARRAY_LEN(pvm_names); i++) {
		if (strcmp(name, pvm_names[i]))
			continue;
		if (!have_vm) {
			kprintf("workload: '%s' needs the Phantom VM, which is not linked in\n", name);
			return 0;
		}
		strncpy0(pvm_workload, name, sizeof pvm_workload);
		vm = (struct workload){ pvm_names[i], vm_boot, vm_attach, vm_run, vm_check };
		return &vm;
	}
	return 0;
}
