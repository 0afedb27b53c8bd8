/* sim/clock.h: simulated time.
 *
 * All time in phantom-sim is simulated time, counted in picoseconds in an
 * unsigned 64-bit integer.  That is enough for about 213 days of simulated
 * time, far beyond any run, and fine-grained enough that a 5 GHz cycle
 * (200 ps) is still an exact integer.  Nothing on the simulation path may
 * read the host clock.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>

typedef uint64_t sim_time_t;            /* picoseconds */

#define SIM_PS  ((sim_time_t)1)
#define SIM_NS  ((sim_time_t)1000)
#define SIM_US  ((sim_time_t)1000000)
#define SIM_MS  ((sim_time_t)1000000000)
#define SIM_S   ((sim_time_t)1000000000000)
#define SIM_TIME_MAX UINT64_MAX

#endif
