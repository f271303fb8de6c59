"""Prior probability maps from ISRID-style distance rings, and MapScore.

The planner does not know the subject model (``subject.py``): its prior comes from lost-
person statistics as search planners use them. ISRID publishes, per subject category,
the 25/50/75/95% straight-line distances from the last known point at which subjects
were found (Koester, *Lost Person Behavior*, 2008); the rings between them hold 25, 25,
25 and 20% of finds, and the last 5% lies between the 95% distance and twice it (an
ASSUMPTION: the tail's extent is not published per category). Each
ring's share is spread evenly over its area, times the category's attraction weight of
the nearest road node's place (water edges for despondent subjects, and so on), within
each ring. What lies beyond the search area is the map's last cell, "outside", which no
searcher can sweep. MapScore after Ferguson (2013).
"""

from __future__ import annotations

import numpy as np

from gridsim.scenario.schema import Behaviour
from gridsim.studies.search.area import RASTER_M, SearchArea
from gridsim.studies.search.subject import attraction_of_nodes

RING_SHARES = (0.25, 0.25, 0.25, 0.20, 0.05)


def ring_prior(area: SearchArea, behaviour: Behaviour, attraction: bool = True,
               centre_xy: np.ndarray | None = None) -> np.ndarray:
    """Return the prior over the S segments and "outside" (S + 1 values summing to 1).

    The rings are centred on ``centre_xy`` (default: the LKP).
    """
    q1, q2, q3 = (1000.0 * q for q in behaviour.distance_km_quartiles)
    p95 = 1000.0 * behaviour.distance_km_p95
    edges = np.array([0.0, q1, q2, q3, p95, 2.0 * p95])
    ring_area = np.pi * np.diff(edges ** 2)
    density = np.array(RING_SHARES) / ring_area  # per m2 within each ring
    centre = area.xy_m[area.lkp] if centre_xy is None else centre_xy
    distance = np.hypot(*(area.raster_xy_m - centre).T)
    ring = np.searchsorted(edges, distance, side="right") - 1
    inside_rings = ring < len(RING_SHARES)
    mass = np.where(inside_rings, density[np.minimum(ring, len(RING_SHARES) - 1)], 0.0)
    mass = mass * RASTER_M ** 2
    if attraction:
        weight = attraction_of_nodes(area, behaviour.attraction)[area.raster_node]
        for k in range(len(RING_SHARES)):  # keep each ring's share inside the area
            in_ring = ring == k
            weighted = (mass[in_ring] * weight[in_ring]).sum()
            if weighted > 0.0:
                mass[in_ring] = mass[in_ring] * weight[in_ring] * (
                    mass[in_ring].sum() / weighted)
    segments = np.bincount(area.raster_segment, weights=mass,
                           minlength=area.segment_count)
    inside = float(segments.sum())
    return np.append(segments, max(0.0, 1.0 - inside)) / max(1.0, inside)


def mapscore(prior: np.ndarray, area_m2: np.ndarray, cell: int) -> float:
    """Return the MapScore of ``prior`` for a subject found in ``cell`` (of the segments).

    Cells are ranked by probability density (per m^2); the score is the share of the
    area ranked below the find cell minus the share ranked above it, so a uniform map
    scores 0 and a map whose densest cell holds the find scores nearly 1 (Ferguson,
    "MapScore: probability map evaluation for search and rescue", 2013).
    """
    density = prior[: area_m2.shape[0]] / area_m2
    here = density[cell]
    total = float(area_m2.sum())
    below = float(area_m2[density < here].sum())
    above = float(area_m2[density > here].sum())
    return (below - above) / total
