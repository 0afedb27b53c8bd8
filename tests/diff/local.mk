# tests/diff/: differential CPU tests.
