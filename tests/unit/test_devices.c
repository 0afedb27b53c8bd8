/* tests/unit/test_devices.c: runs the device suites. */
#include <stdlib.h>
#include "tests/unit/test_devices.h"

int main(void)
{
	SRunner *sr = srunner_create(pic_suite());
	srunner_add_suite(sr, pit_suite());
	srunner_add_suite(sr, apic_suite());
	srunner_add_suite(sr, uart_suite());
	srunner_add_suite(sr, rtc_suite());
	srunner_add_suite(sr, pci_suite());
	srunner_add_suite(sr, pc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
