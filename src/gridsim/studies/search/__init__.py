"""Missing-person search: subject movement, searchers, probability maps, the study."""
