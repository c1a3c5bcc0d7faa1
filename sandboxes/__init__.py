"""Stand-ins for the platform's outside parties, each its own server with its own storage.

Nothing here imports the platform, and no platform app imports anything from here: they talk
over HTTP only, as the real parties do.
"""
