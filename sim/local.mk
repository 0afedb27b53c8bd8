# sim/: the CLI, configs and the simulation core.
libphantom_a_SOURCES += \
	sim/clock.h \
	sim/config.c sim/config.h \
	sim/event.c sim/event.h \
	sim/rng.c sim/rng.h \
	sim/sim.c sim/sim.h \
	sim/stats.c sim/stats.h \
	sim/cli.c sim/cli.h \
	sim/cmd_run.c \
	sim/cmd_campaign.c \
	sim/campaign.c sim/campaign.h \
	sim/crash_points.c sim/crash_points.h \
	sim/oracle.c sim/oracle.h \
	sim/report.c sim/report.h \
	sim/cmd_user.c \
	sim/cmd_trace.c \
	sim/insn_trace.c sim/insn_trace.h

bin_PROGRAMS += phantom-sim
phantom_sim_SOURCES = sim/main.c
