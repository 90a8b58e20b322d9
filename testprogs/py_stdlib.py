"""A clean Python program: imports several modules of the standard library
and uses them (valgrind: nothing lost). With "raise" as its argument it ends
with an uncaught exception instead (exit 1, a traceback on stderr): still
nothing lost, and no crash. Run by Debian's /usr/bin/python3."""
import asyncio
import decimal
import json
import re
import sys


async def twice(x):
    await asyncio.sleep(0)
    return 2 * x


total = decimal.Decimal("1.10") + decimal.Decimal("2.20")
doc = json.loads(json.dumps({"total": str(total), "words": re.findall(r"\w+", "a bb ccc")}))
print(doc["total"], len(doc["words"]), asyncio.run(twice(21)))
if sys.argv[1:] == ["raise"]:
    raise ValueError("the program gives up")
