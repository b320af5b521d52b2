"""The seed's example request (JSON and the same invoice in the XML mapping)."""

from __future__ import annotations

import json
from typing import Any

SEED_JSON = (
    '{"tin":"123456789","date":"2014-12-31 21:07:36 -0400","place":"xxx","bid":"000000000000001",'
    '"ccid":"000000000000001","itype":"Training","ttype":"Sale","mcr":"777777777","ino":"xxxxxxxxxxxxxxx",'
    '"hr":0,"hb":1000,"ht":0,"mr":18,"mb":2000,"mt":360,"lr":16,"lb":3000,"lt":480,"zr":32,"zb":4000,"zt":1280,'
    '"lines":[{"ean":"1234567890180","name":"Test","quantity":1.0,"base":1000.0,"discount":0.0,"code":"A",'
    '"total":1000.0},{"ean":"1234567890173","name":"Test","quantity":1.0,"base":2000,"discount":0.0,"code":"B",'
    '"total":2360.0},{"ean":"1234567890166","name":"Test","quantity":1.0,"base":3000,"discount":0.0,"code":"C",'
    '"total":3480.0},{"ean":"1234567890128","name":"Test","quantity":1.0,"base":4000,"discount":0.0,"code":"D",'
    '"total":5280.0}]}'
)
"""The seed's curl body verbatim (it has no journal: the contract requires one, see ``seed_json``)."""

JOURNAL = "V-SDC $$date$$ $$nev$$ $$numberRecu$$\nidata $idata$$ $$idata$$\nsig $signature$$ $$signature$$"


def seed_json(**changes: Any) -> bytes:
    """The seed's request with a journal (required by the contract) and ``changes`` applied (None removes)."""
    data = json.loads(SEED_JSON)
    data["journal"] = JOURNAL
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data).encode()


def seed_xml(**changes: Any) -> bytes:
    """The same invoice in the XML mapping: root <invoice>, one element per field, <lines><line>…."""
    data = json.loads(seed_json(**changes))
    parts = ["<?xml version='1.0' encoding='UTF-8'?><invoice>"]
    for key, value in data.items():
        if key == "lines":
            parts.append("<lines>")
            for line in value:
                parts.append("<line>" + "".join(f"<{k}>{v}</{k}>" for k, v in line.items()) + "</line>")
            parts.append("</lines>")
        else:
            text = str(value).replace("&", "&amp;").replace("<", "&lt;")
            parts.append(f"<{key}>{text}</{key}>")
    parts.append("</invoice>")
    return "".join(parts).encode()
