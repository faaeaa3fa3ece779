"""Everything that touches the network or the disk: Kafka through Faust (``faust``), Redis
(``redis``). The pipeline reaches them only through its ports."""
