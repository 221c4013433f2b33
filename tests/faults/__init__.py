"""Fault injection against the real services: broker outages, killed workers, races."""
