"""Connection URLs and the TOML config: validation with clear errors, atomic saves, no secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from transferapp.config import Config, Connection, load_config
from transferapp.errors import ConfigError, NotFoundError
from transferapp.paths import app_paths
from transferapp.urls import parse_url


def test_sftp_url_with_absolute_folder() -> None:
    url = parse_url("sftp://alice@example.com:2222/data/in")
    assert (url.scheme, url.user, url.host, url.port, url.path) == ("sftp", "alice", "example.com", 2222, "/data/in")
    assert str(url) == "sftp://alice@example.com:2222/data/in"


def test_sftp_url_under_home_and_default_port() -> None:
    url = parse_url("sftp://bob@host/~/exports/orders")
    assert (url.port, url.path) == (22, "exports/orders")
    assert parse_url("sftp://bob@host/~").path == "."
    assert str(url) == "sftp://bob@host/~/exports/orders"


def test_url_with_escaped_user_and_spaces() -> None:
    url = parse_url("sftp://first%40shop@host/In%20Box")
    assert (url.user, url.path) == ("first@shop", "/In Box")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ftp://a@h/x", "Unsupported URL scheme"),
        ("sftp:///x", "names no host"),
        ("sftp://host/x", "names no user"),
        ("sftp://a:secret@host/x", "contains a password"),
        ("sftp://a@host:99999/x", "Invalid URL"),
    ],
)
def test_bad_urls_are_refused_with_reason(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_url(text)


def test_password_in_url_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        parse_url("sftp://a:hunter2@host/x")
    assert "hunter2" not in info.value.hint


def test_roundtrip_and_permissions(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = Config(path)
    config.connections["pim"] = Connection("pim", "sftp://u@h:2200/in", "key", "/k", "SHA256:abc", {"concurrency": 8})
    config.other["jobs"] = {"nightly": {"enabled": True}}
    config.save()
    loaded = load_config(path)
    assert loaded.connections["pim"] == config.connections["pim"]
    assert loaded.other == {"jobs": {"nightly": {"enabled": True}}}
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left behind


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[connections.pim\nurl = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_a_password_in_the_config_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[connections.pim]\nurl = "sftp://u@h/x"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match="secrets must not be stored") as info:
        load_config(path)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('url = "sftp://u@h/x"\nauth = "magic"\n', "auth 'magic'"),
        ('url = "sftp://u@h/x"\nauth = "key"\n', "no key_file"),
        ('url = "sftp://u@h/x"\ncolour = "red"\n', "unknown key 'colour'"),
        ('url = "sftp://u@h/x"\n[connections.pim.options]\nconcurrency = 0\n', "positive number"),
        ('url = "sftp://u@h/x"\n[connections.pim.options]\nturbo = 1\n', "unknown option"),
        ('auth = "agent"\n', "has no url"),
    ],
)
def test_invalid_connection_entries(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[connections.pim]\n" + body)
    with pytest.raises(ConfigError, match=words):
        load_config(path)


def test_unknown_connection_lists_the_known_ones(tmp_path: Path) -> None:
    config = Config(tmp_path / "c.toml", {"pim": Connection("pim", "sftp://u@h/x")})
    with pytest.raises(NotFoundError) as info:
        config.connection("oms")
    assert "pim" in info.value.hint


def test_transferapp_home_puts_everything_in_one_folder(ta_home: Path) -> None:
    paths = app_paths().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.spool_dir, paths.log_dir):
        assert folder.is_relative_to(ta_home) and folder.is_dir()
