"""Settings, the error tree, the database session and its transactions, logging, time and the
routing file: the ground floor of the layer, which imports nothing else of ours."""
