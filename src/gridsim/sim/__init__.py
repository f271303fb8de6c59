"""The simulation: the simpy engine, its records and the dispatch layers."""
