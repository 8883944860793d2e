# storage/ sources and tests
