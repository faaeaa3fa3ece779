from unittest import mock

from devtools.localstack import kafka


def test_cluster_ids_never_start_with_a_dash() -> None:
    """The storage tool reads a leading "-" as an option, and formatting fails."""
    dash_first = mock.Mock(bytes=b"\xfb" + bytes(15))  # base64 "-w..."
    plain = mock.Mock(bytes=bytes(16))
    with mock.patch.object(kafka.uuid, "uuid4", side_effect=[dash_first, plain]):
        assert kafka._cluster_id() == "AAAAAAAAAAAAAAAAAAAAAA"
