"""Kling Studio: a desktop studio for Kling 3.0 Turbo multi-shot video generation."""

__version__ = "0.1.0"
