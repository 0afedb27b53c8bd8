# machine/: sources and tests of machine/ are added here.
