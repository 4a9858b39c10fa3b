"""Test support code: an independent API-key oracle, an in-process Cytomine stub and the demo runner."""
