"""Thin adapters over the core: HTTP routes, Socket.IO events, the app factory."""
