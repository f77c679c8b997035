"""The plugin API: the specs plugins register, the hooks they implement, the errors they
raise and the helpers a dataset loader or a savable model uses. It imports nothing else of
the host; ``gpbench`` re-exports all of it for plugins."""
