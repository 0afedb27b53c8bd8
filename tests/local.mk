# tests/: unit tests of the simulation core and the CLI.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_sim
TESTS += tests/unit/test_sim
tests_unit_test_sim_SOURCES = tests/unit/test_sim.c tests/unit/test_config.c tests/unit/check_main.h
tests_unit_test_sim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_sim_LDADD = $(LDADD) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/test_campaign
TESTS += tests/unit/test_campaign
tests_unit_test_campaign_SOURCES = tests/unit/test_campaign.c
tests_unit_test_campaign_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_campaign_LDADD = $(LDADD) $(CHECK_LIBS)
endif

TESTS += tests/cli/bad-configs.sh tests/cli/presets.sh tests/cli/campaign-merge.sh tests/cli/power-fail.sh \
	tests/cli/campaign.sh
EXTRA_DIST += tests/lib.sh tests/cli/lib.sh tests/cli/bad-configs.sh tests/cli/presets.sh tests/cli/campaign-merge.sh tests/cli/power-fail.sh \
	tests/cli/campaign.sh
