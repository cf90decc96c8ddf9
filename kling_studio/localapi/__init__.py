"""The local Kling-compatible server and the animatic renderer."""
