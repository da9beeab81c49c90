"""Secrets only from files their owner alone may read (issue 17 §4): the signing key and the token key."""

from __future__ import annotations

from pathlib import Path

import pytest

from oretrail.access.tokens import load_or_create_token_key
from oretrail.i18n.message import Message
from oretrail.ledger.keys import SigningKeyError, create_key, load_key
from oretrail.secretfiles import SecretFileError, read_secret, write_secret

WHAT = Message("secret.what.signing", "the ledger's signing key")


@pytest.mark.parametrize(("mode", "who"), [(0o640, "its group"), (0o604, "other users"), (0o644, "its group and")])
def test_a_secret_file_others_may_read_is_refused_naming_file_and_mode(tmp_path: Path, mode: int, who: str) -> None:
    path = tmp_path / "secret"
    write_secret(path, b"x")
    assert read_secret(path, WHAT()) == b"x"
    path.chmod(mode)
    with pytest.raises(SecretFileError) as exc:
        read_secret(path, WHAT())
    assert str(path) in str(exc.value) and f"{mode:04o}" in str(exc.value) and who in str(exc.value)
    assert "chmod 600" in str(exc.value)
    assert "权限" in exc.value.said.render("zh")


def test_owner_only_modes_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    write_secret(path, b"x")
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o400)
    assert read_secret(path, WHAT()) == b"x"


def test_the_signing_key_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    create_key(path)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError) as exc:
        load_key(path)
    assert str(path) in str(exc.value) and "0644" in str(exc.value) and "signing key" in str(exc.value)
    with pytest.raises(SigningKeyError):  # never made over an existing file either
        create_key(path)


def test_the_token_key_file_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.key"
    monkeypatch.setenv("ORETRAIL_TOKEN_KEY", str(path))
    first = load_or_create_token_key()
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token_key().public.public_bytes_raw() == first.public.public_bytes_raw()
    path.chmod(0o660)
    with pytest.raises(SecretFileError) as exc:
        load_or_create_token_key()
    assert str(path) in str(exc.value) and "0660" in str(exc.value) and "access tokens" in str(exc.value)
