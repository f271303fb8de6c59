"""Write scenarios/san-francisco.toml: gridsim calls fit on January-June 2018 of the SF log.

    python scripts/make_san_francisco.py

The same as docs/your-own-city.md's `gridsim calls fit ... --out DIR`, then the scenario
moved next to the others (its file paths rebased to scenarios/).
"""

import sys
import tempfile
from pathlib import Path

from gridsim.calls.scenario_out import rebased_text
from gridsim.cli.calls import calls_fit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data" / "sf"

with tempfile.TemporaryDirectory() as folder:
    out = Path(folder) / "fit"
    code = calls_fit(DATA / "sffd-calls-2018-ne-neighbourhoods.csv.gz", DATA / "mapping.toml",
                     out, str(ROOT / "scenarios" / "san-francisco-city.toml"),
                     "2018-01-01..2018-07-01")
    if code:
        sys.exit(code)
    text = rebased_text((out / "scenario.toml").read_text(encoding="utf-8"), out,
                        ROOT / "scenarios")
    (ROOT / "scenarios" / "san-francisco.toml").write_text(text, encoding="utf-8")
