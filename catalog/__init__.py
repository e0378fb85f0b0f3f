"""The program catalog: its file (`data/catalog.yaml`, schema in SCHEMA.md) and validation, its
database tables and loader, read-only facts and views for answers, coverage, and the sync from Open
edX's course-discovery. `python -m catalog` is its command line.

The action server, the analytics feed and the dashboard import this package; nothing here imports
them (it depends only on `core`)."""
