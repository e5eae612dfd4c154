"""The conformance fixtures: every transport against its real server, as one parametrized ``remote``."""

from support.conformance import large_file, nginx_server, remote, wsgidav_servers  # noqa: F401 - fixtures by name
