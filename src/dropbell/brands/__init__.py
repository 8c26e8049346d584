"""Brand pages and follows: a brand's public page, and shoppers who follow it."""
