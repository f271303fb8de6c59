"""The police-bank anti-fraud study: a race between warnings and money transfers.

``model.py`` simulates one replication (simpy), ``study.py`` runs replications and sweeps
and summarises them, ``figures.py`` draws them. A scenario with ``[fraud]`` runs it.
"""
