"""What a run draws: sample grids, reconstructions, interpolations and curves (below the trainer, which calls them)."""
