"""What a run means: summaries, outcomes, coverage and equity."""
