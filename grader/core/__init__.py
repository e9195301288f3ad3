"""The domain of grader: store, importers, exporters, diffs, statistics. Never imports textual."""
