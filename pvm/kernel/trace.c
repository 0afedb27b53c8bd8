/* pvm/kernel/trace.c: the trace port, and the same events on the console.
 *
 * Each event goes to the trace port (docs/machine.md: argument words to
 * 0xE50, then the code to 0xE54) and is printed as one console line (a
 * snapshot's lines only once it has committed, see hold() below)
 *
 *     TRACE <name> key=value ...
 *
 * with 64-bit digests as 16 lowercase hex digits, so tests under QEMU,
 * where the port goes nowhere, can check the same facts.
 */
#include "pvm/kernel/kernel.h"

static bool port_present;

/* A snapshot's console lines wait until it has committed (or the next
 * snapshot begins): a UART character costs microseconds of port I/O, and
 * printing inside the snapshot would put that into the latency being
 * measured.  The trace port's events themselves cost nothing. */
static char held[256];
static size_t nheld;

static void release(void)
{
	for (size_t k = 0; k < nheld; k++)
		uart_putc(held[k]);
	nheld = 0;
}

static void hold(const char *line)
{
	size_t n = strlen(line);
	if (nheld + n >= sizeof held)
		release();
	memcpy(held + nheld, line, n + 1);
	nheld += n;
}

void trace_init(void)
{
	port_present = inl(ABI_PORT_TRACE_ARG) == ABI_TRACE_MAGIC;
}

bool trace_port_present(void)
{
	return port_present;
}

void trace_event(uint32_t code, const uint32_t *args, int nargs)
{
	for (int i = 0; i < nargs && i < ABI_TRACE_MAX_ARGS; i++)
		outl(ABI_PORT_TRACE_ARG, args[i]);
	outl(ABI_PORT_TRACE_EMIT, code);
}

#define LO(x) ((uint32_t)(x))
#define HI(x) ((uint32_t)((uint64_t)(x) >> 32))

void trace_boot(void)
{
	uint32_t a[] = { ABI_VERSION };
	trace_event(ABI_EV_BOOT, a, 1);
	kprintf("TRACE boot abi=%u port=%s\n", ABI_VERSION, port_present ? "yes" : "no");
}

void trace_snapshot_begin(uint64_t gen)
{
	uint32_t a[] = { LO(gen), HI(gen) };
	trace_event(ABI_EV_SNAPSHOT_BEGIN, a, 2);
	release();      /* an earlier snapshot that never committed */
	char line[64];
	ksnprintf(line, sizeof line, "TRACE snapshot_begin gen=%lu\n", gen);
	hold(line);
}

/* pause_cycles is informational (TSC cycles, not checked by tests);
 * dirty_pages: the pages the pause found dirty (the snapshot's size). */
void trace_pause_end(uint64_t gen, uint64_t pause_cycles, uint32_t dirty_pages)
{
	uint32_t a[] = { LO(gen), HI(gen), dirty_pages };
	trace_event(ABI_EV_PAUSE_END, a, 3);
	char line[96];
	ksnprintf(line, sizeof line, "TRACE pause_end gen=%lu tsc=%lu dirty=%u\n", gen, pause_cycles,
		  dirty_pages);
	hold(line);
}

void trace_commit_begin(uint64_t gen)
{
	uint32_t a[] = { LO(gen), HI(gen) };
	trace_event(ABI_EV_COMMIT_BEGIN, a, 2);
}

void trace_pages_written(uint64_t gen, uint32_t pages)
{
	uint32_t a[] = { LO(gen), HI(gen), pages };
	trace_event(ABI_EV_PAGES_WRITTEN, a, 3);
	char line[64];
	ksnprintf(line, sizeof line, "TRACE pages_written gen=%lu pages=%u\n", gen, pages);
	hold(line);
}

/* sealed = false: the digest is not known yet (frames=pm hashes the
 * pages once the root is durable); it comes with trace_digest, and so
 * does the console line. */
void trace_commit(uint64_t gen, uint64_t digest, uint64_t root_pa, uint32_t root_len, bool sealed)
{
	uint32_t a[] = { LO(gen), HI(gen), LO(digest), HI(digest), LO(root_pa), HI(root_pa), root_len };
	/* The root record's place lets the simulator judge, from its own
	 * persistence model, when this commit really became durable. */
	trace_event(ABI_EV_COMMIT, a, root_len ? 7 : 4);
	release();
	if (sealed)
		kprintf("TRACE commit gen=%lu digest=%016lx\n", gen, digest);
}

void trace_digest(uint64_t gen, uint64_t digest)
{
	uint32_t a[] = { LO(gen), HI(gen), LO(digest), HI(digest) };
	trace_event(ABI_EV_DIGEST, a, 4);
	kprintf("TRACE commit gen=%lu digest=%016lx\n", gen, digest);
}

void trace_recovery_begin(void)
{
	trace_event(ABI_EV_RECOVERY_BEGIN, 0, 0);
	kprintf("TRACE recovery_begin\n");
}

void trace_recovery_end(uint64_t gen, uint64_t digest, uint32_t selfcheck, uint32_t invariant)
{
	uint32_t a[] = { LO(gen), HI(gen), LO(digest), HI(digest), selfcheck, invariant };
	trace_event(ABI_EV_RECOVERY_END, a, 6);
	kprintf("TRACE recovery_end gen=%lu digest=%016lx selfcheck=%u invariant=%u\n",
		gen, digest, selfcheck, invariant);
}

void trace_workload_op(uint32_t kind, uint32_t count)
{
	uint32_t a[] = { kind, count };
	trace_event(ABI_EV_WORKLOAD_OP, a, 2);
	kprintf("TRACE workload_op kind=%u count=%u\n", kind, count);
}

/* Everything before this is the same whatever the store holds: a campaign
 * boots the machine once up to here and forks it for every crash state. */
void trace_store_open(void)
{
	trace_event(ABI_EV_STORE_OPEN, 0, 0);
}

void trace_first_boot(void)
{
	trace_event(ABI_EV_FIRST_BOOT, 0, 0);
	kprintf("TRACE first_boot\n");
}
