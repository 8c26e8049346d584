"""dropbell: product-drop reminders that arrive on time, exactly once."""

__version__ = "0.1.0"
