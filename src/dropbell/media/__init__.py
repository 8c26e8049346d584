"""Brand images uploaded to dropbell: checked, cleaned, resized, stored and served."""
