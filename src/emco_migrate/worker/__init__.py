"""The worker process that runs the migrate workflow and its activities."""
