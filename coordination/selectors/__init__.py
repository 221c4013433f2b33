"""Every non-trivial read in the coordination app, with related rows already loaded."""
