"""Every write in the coordination app. Views and the API call these, nothing else."""
