"""Fuzz targets for images-server; see fuzz/README.md."""
