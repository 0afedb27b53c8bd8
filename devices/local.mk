# devices/: sources and tests of devices/ are added here.
