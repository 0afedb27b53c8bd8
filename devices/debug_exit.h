/* devices/debug_exit.h: QEMU's isa-debug-exit (port 0xF4) and the POST
 * code port 0x80.
 *
 *     debug_exit_init(&dx, sim);
 *     debug_exit_attach(&dx, bus);
 *
 * A guest write of v to 0xF4 stops the run with sim->stop_code =
 * (v << 1) | 1, QEMU's convention, so a test guest can exit with a status
 * that cannot be confused with a clean 0.
 */
#ifndef DEVICES_DEBUG_EXIT_H
#define DEVICES_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct sim;
struct bus;

#define DEBUG_EXIT_PORT 0xF4
#define POST_PORT 0x80

struct debug_exit {
	struct sim *sim;
	bool exited;
	int code;               /* (v << 1) | 1 of the first exit write */
	uint8_t post;           /* last POST code */
	uint64_t *st_post, *st_exit;
};

void debug_exit_init(struct debug_exit *d, struct sim *sim);
int debug_exit_attach(struct debug_exit *d, struct bus *bus);

uint32_t debug_exit_io_read(void *dx, uint16_t port, unsigned size);
void debug_exit_io_write(void *dx, uint16_t port, unsigned size, uint32_t value);

#endif
