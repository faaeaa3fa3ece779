"""The Faust side: the app and its agent, the batching consumer, the customers table, the
producer, RocksDB, the web pages, and the private Faust and aiokafka attributes relied on."""
