"""The foundation: errors, random streams, caching, units, statistics, output files, executors."""
