"""Real call logs: read a dispatch centre's CAD export and fit scenario inputs from it.

``mapping`` reads the mapping file that names the export's columns, ``read`` turns the
export into one entry per call (counting every row left out), ``fit`` estimates the
incident inputs of a scenario with their confidence intervals, ``figures`` draws them.
"""
