"""The simulated deployment side: charts, placement, rollout over time, DIG lifecycle, status."""
