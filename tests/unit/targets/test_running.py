"""From a profile to the target a run probes (catalog.targets.profiles): a launcher's server with
the profile's prefix, or a remote server whose URL and credentials the environment names."""

from __future__ import annotations

import pytest

from catalog.model.credentials import Credential, Credentials
from catalog.model.definition import Endpoint, TargetProfile
from catalog.model.errors import TargetError
from catalog.targets.launchers import Launched
from catalog.targets.profiles import launched_target, remote_target


def _launched(**kw: object) -> Launched:
    creds = Credentials(roles={"valid": Credential("s3cret")})
    return Launched(base_url="http://127.0.0.1:5000/", version="1.2", credentials=creds, **kw)  # type: ignore[arg-type]


def test_a_launched_server_serves_the_api_under_the_profiles_prefix():
    seen: list[tuple[str, str]] = []

    def serves(method: str, path: str) -> bool:
        seen.append((method, path))
        return True

    launched = _launched(serves=serves,
                         unavailable={"expired": "no clock to wind"}, parameters={"room": "!r:x"})
    target = launched_target(TargetProfile(api="a", name="t", launcher="demo", prefix="/api/v2"), launched)
    assert (target.base_url, target.version) == ("http://127.0.0.1:5000/api/v2", "1.2")
    assert dict(target.unavailable_states) == {"expired": "no clock to wind"} and dict(target.parameters) == {"room": "!r:x"}
    assert target.serves is not None and target.serves(Endpoint(id="e", api="a", group="g", method="GET", path="/me"))
    assert seen == [("GET", "/api/v2/me")]


def test_a_prefix_that_would_carry_the_credentials_elsewhere_is_refused():
    with pytest.raises(TargetError, match="prefix: would move the launcher's credentials to another origin"):
        launched_target(TargetProfile(api="a", name="t", launcher="demo", prefix="@evil.test"), _launched())


def test_a_remote_profile_takes_its_url_and_credentials_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTHCAT_ALLOW_ORIGINS", raising=False)
    monkeypatch.setenv("T_URL", "https://api.example.test/")
    monkeypatch.setenv("T_VALID", "v-secret")
    monkeypatch.delenv("T_EXPIRED", raising=False)
    profile = TargetProfile(api="a", name="t", base_url_env="T_URL", prefix="/v1", credentials={
        "valid": {"secret": {"env": "T_VALID"}}, "expired": {"secret": {"env": "T_EXPIRED"}},
        "other": {"secret": {"env": "T_EXPIRED"}},
    })
    target = remote_target(profile, tmp_path)
    assert target.base_url == "https://api.example.test/v1"
    assert target.credentials.roles["valid"].secret == "v-secret"
    # An unset role makes its state n/a, naming the variable to set ("other" is no state of its own).
    assert dict(target.unavailable_states) == {"expired": "set T_EXPIRED"}
    monkeypatch.delenv("T_URL")
    with pytest.raises(TargetError, match="has no base URL"):
        remote_target(profile, tmp_path)
