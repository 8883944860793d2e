# net/ sources and tests
