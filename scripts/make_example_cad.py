"""Write the example CAD export (examples/cad/): see gridsim.calls.example.

    python scripts/make_example_cad.py                 # examples/cad/ (committed)
    python scripts/make_example_cad.py --out DIR --days 365 --scale 7.5   # ~1M rows
"""

from gridsim.calls.example import main

if __name__ == "__main__":
    main()
