# tests/user/: user-mode runner tests (busybox, C programs).
