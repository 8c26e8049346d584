"""The web app: server-rendered pages for shoppers and brands (see docs/web.md)."""
