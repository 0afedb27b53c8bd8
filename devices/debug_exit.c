/* devices/debug_exit.c: the test-exit port and the POST code port.
 *
 * isa-debug-exit is a QEMU device, not hardware: QEMU's documentation
 * defines its exit status as (value << 1) | 1, with the default iobase
 * 0xF4 and a one-byte register.  Wider writes use their full value.
 *
 * Port 0x80 is where firmware writes power-on self-test progress codes
 * (and where old kernels write to waste an I/O cycle); the value is kept
 * for inspection, counted, and otherwise ignored.  Reads return the last
 * code, as on POST cards that latch it.
 */
#include <string.h>

#include "devices/debug_exit.h"
#include "machine/bus.h"
#include "sim/sim.h"

uint32_t debug_exit_io_read(void *dx, uint16_t port, unsigned size)
{
	struct debug_exit *d = dx;
	if (port == POST_PORT)
		return d->post;
	return 0xFFFFFFFF;
}

void debug_exit_io_write(void *dx, uint16_t port, unsigned size, uint32_t value)
{
	struct debug_exit *d = dx;

	if (port == POST_PORT) {
		d->post = value & 0xFF;
		++*d->st_post;
		return;
	}
	if (port != DEBUG_EXIT_PORT)
		return;
	if (size < 4)
		value &= (1u << (8 * size)) - 1;
	++*d->st_exit;
	if (d->exited)
		return;         /* the first request decides the exit code */
	d->exited = true;
	d->code = (int)((value << 1) | 1);
	sim_request_stop(d->sim, d->code);
}

void debug_exit_init(struct debug_exit *d, struct sim *sim)
{
	memset(d, 0, sizeof *d);
	d->sim = sim;
	d->st_post = stats_counter(&sim->stats, "post.writes");
	d->st_exit = stats_counter(&sim->stats, "debug_exit.writes");
}

int debug_exit_attach(struct debug_exit *d, struct bus *bus)
{
	if (bus_add_pio(bus, DEBUG_EXIT_PORT, 1, debug_exit_io_read, debug_exit_io_write, d) ||
	    bus_add_pio(bus, POST_PORT, 1, debug_exit_io_read, debug_exit_io_write, d))
		return -1;
	return 0;
}
