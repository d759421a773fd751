"""The metrics layer: metric queries compiled to one SQL statement, snapshots, and the Python API."""
