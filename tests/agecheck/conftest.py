from __future__ import annotations

import datetime as dt
import secrets

import pytest

from tests.agecheck.wallet import Issuer, make_issuer
from ugc_guard.agecheck import Session, TrustList

ORIGIN = "https://upload.example.com"


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return make_issuer()


@pytest.fixture(scope="session")
def trust(issuer: Issuer) -> TrustList:
    return TrustList.from_pem([issuer.ca_pem()])


def new_session(ages: tuple[int, ...] = (18,), origin: str = ORIGIN) -> Session:
    return Session("subject-1", origin, secrets.token_urlsafe(32), ages, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))


@pytest.fixture
def session() -> Session:
    return new_session()
