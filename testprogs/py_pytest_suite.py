"""A small pytest suite (run by Debian's python3-pytest): json, re,
decimal and asyncio, all passing. valgrind finds nothing lost; neither may
etrace."""
import asyncio
import decimal
import json
import re

import pytest


def test_json():
    assert json.loads(json.dumps({"a": [1, 2]})) == {"a": [1, 2]}


@pytest.mark.parametrize("n", range(5))
def test_re(n):
    assert re.match(r"\d+", str(n))


def test_decimal():
    assert decimal.Decimal("1.1") + decimal.Decimal("2.2") == decimal.Decimal("3.3")


def test_async():
    async def f():
        await asyncio.sleep(0)
        return 3
    assert asyncio.run(f()) == 3
