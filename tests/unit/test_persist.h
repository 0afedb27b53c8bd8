/* tests/unit/test_persist.h: suites of the persistence test program. */
#ifndef TESTS_TEST_PERSIST_H
#define TESTS_TEST_PERSIST_H
#include <check.h>
Suite *persist_suite(void);
Suite *persist_image_suite(void);
#endif
