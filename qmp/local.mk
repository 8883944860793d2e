# qmp/ sources and tests
