# devices/: the standard PC devices.  One device per file; docs/devices.md
# describes each.
libphantom_a_SOURCES += \
	devices/irq.c devices/irq.h \
	devices/pic8259.c devices/pic8259.h \
	devices/pit8254.c devices/pit8254.h \
	devices/lapic.c devices/lapic.h \
	devices/ioapic.c devices/ioapic.h \
	devices/uart16550.c devices/uart16550.h \
	devices/rtc_cmos.c devices/rtc_cmos.h \
	devices/pci.c devices/pci.h \
	devices/debug_exit.c devices/debug_exit.h \
	devices/pc.c devices/pc.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_devices
TESTS += tests/unit/test_devices
tests_unit_test_devices_SOURCES = \
	tests/unit/test_devices.c tests/unit/test_devices.h \
	tests/unit/test_devices_pic.c \
	tests/unit/test_devices_pit.c \
	tests/unit/test_devices_apic.c \
	tests/unit/test_devices_uart.c \
	tests/unit/test_devices_rtc.c \
	tests/unit/test_devices_pci.c \
	tests/unit/test_devices_pc.c
tests_unit_test_devices_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_devices_LDADD = $(LDADD) $(CHECK_LIBS)
endif
