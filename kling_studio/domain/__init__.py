"""Pure-Python core: storyboard, limits, compiler, parser, job states, project files.

Nothing here imports Qt, httpx, asyncio or sqlite.
"""
