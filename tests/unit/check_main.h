/* tests/unit/check_main.h: suites shared between the sim test files. */
#ifndef TESTS_CHECK_MAIN_H
#define TESTS_CHECK_MAIN_H
#include <check.h>
Suite *config_suite(void);
#endif
