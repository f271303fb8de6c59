"""A city populated: fleets, volunteers, patrol points, catchments; ``build`` makes a World."""
