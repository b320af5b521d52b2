"""A V-SDC set up as in the acceptance: CA, taxpayer 123456789 (A=0, B=18, C=16, D=32), device 777777777."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from openvcr.config import Settings
from openvcr.registers.signing_keys import clear_signer_cache
from openvcr.store.db import Database
from openvcr.vsdc import service


@dataclass
class Vsdc:
    db: Database
    settings: Settings
    serial: str
    files: service.DeviceFiles


@pytest.fixture
def vsdc(database: Database, tmp_path: Path) -> Vsdc:
    clear_signer_cache()
    settings = Settings(database_url=database.url, public_url="https://vsdc.example", atax_state_dir=tmp_path / "atax")
    service.init_ca(database, settings)
    service.add_taxpayer(
        database, tin="123456789", name="Seed Taxpayer", rates=service.parse_rates("A=0,B=18,C=16,D=32")
    )
    files = service.add_device(database, settings, tin="123456789", mcr="777777777", out_dir=tmp_path / "device")
    return Vsdc(database, settings, files.serial, files)
