"""PySide6 widgets, panels, table models and dialogs."""
