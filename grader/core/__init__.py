"""The domain of grader, one package per step of the data's path (importers, store, patches, audit, stats, export;
text under all). Never imports textual; the layers are in docs/architecture.md and pyproject.toml."""
