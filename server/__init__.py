"""motcua: queue management for Vietnam's public administration service centres."""
