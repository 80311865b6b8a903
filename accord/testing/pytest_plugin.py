"""pytest plugin: the `accord_run` fixture for snapshot-testing policy outcomes."""
