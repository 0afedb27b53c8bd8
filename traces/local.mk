# traces/: sources and tests of traces/ are added here.
