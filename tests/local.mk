# integration tests and guests
