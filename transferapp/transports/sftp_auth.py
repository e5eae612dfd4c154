"""SFTP logins: password, key file (RSA, ECDSA, Ed25519, encrypted) and ssh-agent, with errors that say the fix."""

from __future__ import annotations

from pathlib import Path

import paramiko

from transferapp.config import Connection
from transferapp.errors import AuthError, ConfigError, NetworkError
from transferapp.secrets import SecretStore


def authenticate(conn: Connection, secrets: SecretStore, transport: paramiko.Transport) -> None:
    """Log in with the connection's password, key file or ssh-agent; raise AuthError or NetworkError."""
    user, name = conn.remote.user, conn.name
    try:
        if conn.auth == "password":
            password = secrets.get(name, "password")
            if password is None:
                raise AuthError(
                    f"No password is stored for connection {name!r}",
                    f"store it with 'transferapp connection passwd {name} --password-stdin'",
                )
            transport.auth_password(user, password)
        elif conn.auth == "key":
            transport.auth_publickey(user, load_key(conn, secrets))
        else:
            _auth_agent(transport, user)
    except paramiko.BadAuthenticationType as exc:
        raise AuthError(
            f"The server does not accept {conn.auth} logins for {user!r} (it allows: {', '.join(exc.allowed_types)})",
            "pick an auth kind the server allows",
        ) from None
    except paramiko.AuthenticationException as exc:
        if not transport.is_active() or "timeout" in str(exc).lower():
            # paramiko says "authentication failed" when the connection died during the login
            raise NetworkError(f"The connection to {conn.remote.host} dropped during the login") from None
        raise AuthError(
            f"The server {conn.remote.host} refused the {conn.auth} login for user {user!r}",
            f"check the user name and {_credential_word(conn)}, then run 'transferapp connection test {name}'",
        ) from None
    if not transport.is_authenticated():
        raise AuthError(f"The login for {user!r} did not complete on {conn.remote.host}")


def _credential_word(conn: Connection) -> str:
    return {"password": "password", "key": "key file", "agent": "keys in ssh-agent"}[conn.auth]


def load_key(conn: Connection, secrets: SecretStore) -> paramiko.PKey:
    """Load the key file; the keyring is asked for a passphrase only when the key is encrypted."""
    path = Path(conn.key_file or "").expanduser()
    try:
        try:
            return paramiko.PKey.from_path(path)
        except (paramiko.PasswordRequiredException, TypeError) as exc:
            if "password" not in str(exc).lower():  # paramiko 4+ says so with a TypeError
                raise
            passphrase = secrets.get(conn.name, "passphrase")
            if passphrase is None:
                raise paramiko.PasswordRequiredException(str(exc)) from None
        try:
            return paramiko.PKey.from_path(path, passphrase.encode())
        except (paramiko.SSHException, ValueError, TypeError):
            raise AuthError(
                f"Cannot unlock the key file {path}: the stored passphrase is wrong",
                f"store the right one with 'transferapp connection passwd {conn.name} --passphrase-stdin'",
            ) from None
    except FileNotFoundError:
        raise ConfigError(
            f"The key file {path} of connection {conn.name!r} does not exist",
            "fix the path with 'transferapp connection add ... --key-file PATH'",
        ) from None
    except PermissionError:
        raise ConfigError(f"The key file {path} cannot be read (permission denied)") from None
    except paramiko.PasswordRequiredException:
        raise AuthError(
            f"The key file {path} is encrypted and no passphrase is stored",
            f"store it with 'transferapp connection passwd {conn.name} --passphrase-stdin'",
        ) from None
    except (paramiko.SSHException, ValueError) as exc:
        raise ConfigError(f"The key file {path} is not a usable private key: {exc}") from None


def _auth_agent(transport: paramiko.Transport, user: str) -> None:
    keys = paramiko.Agent().get_keys()
    if not keys:
        raise AuthError(
            "ssh-agent has no keys (or SSH_AUTH_SOCK is not set)", "start ssh-agent and add your key with 'ssh-add'"
        )
    for key in keys:
        try:
            transport.auth_publickey(user, key)
            return
        except paramiko.AuthenticationException:
            continue
    raise paramiko.AuthenticationException("no agent key was accepted")
