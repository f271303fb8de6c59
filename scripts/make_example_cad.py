"""Write the example CAD export (examples/cad/): see gridsim.calls.example.

Usage: ``python scripts/make_example_cad.py`` (examples/cad/, committed), or with
``--out DIR --days 365 --scale 7.5`` for about a million rows.
"""

from gridsim.calls.example import main

if __name__ == "__main__":
    main()
