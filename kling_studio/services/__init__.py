"""Async I/O without widgets: API client, job store and engine, image preparation, settings."""
