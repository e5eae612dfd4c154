"""The PCI guard finds card numbers in every usual layout, only masked, and leaves ordinary numbers alone."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from transferapp import pci
from transferapp.errors import LocalFileError
from transferapp.pci import CardScan, find_cards, issuer, luhn_ok, mask, scan_file

MAKE_SAMPLES = Path("/work/shared/samples/make_samples.py")
VISA = "4111111111111111"
VISA_MASKED = "411111******1111"


@pytest.mark.parametrize(
    ("digits", "scheme"),
    [
        (VISA, "Visa"),
        ("4012888888881881", "Visa"),
        ("4000000000000000006", "Visa"),
        ("5555555555554444", "Mastercard"),
        ("5105105105105100", "Mastercard"),
        ("2223003122003222", "Mastercard"),
        ("2221000000000009", "Mastercard"),
        ("2720000000000005", "Mastercard"),
        ("378282246310005", "American Express"),
        ("340000000000009", "American Express"),
        ("6011111111111117", "Discover"),
        ("6221260000000000", "Discover"),
        ("6229250000000003", "Discover"),
        ("6440000000000005", "Discover"),
        ("6500000000000002", "Discover"),
        ("3530111333300000", "JCB"),
        ("3589000000000003", "JCB"),
        ("30569309025904", "Diners Club"),
        ("36000000000008", "Diners Club"),
        ("3800000000000006", "Diners Club"),
        ("6200000000000005", "UnionPay"),
        ("6221250000000001", "UnionPay"),
        ("6759649826438453", "Maestro"),
        ("5800000000000001", "Maestro"),
        ("5600000000000000002", "Maestro"),
    ],
)
def test_test_cards_are_found_with_their_issuer(digits: str, scheme: str) -> None:
    assert luhn_ok(digits)
    assert issuer(digits) == scheme
    assert find_cards(digits.encode()) == [mask(digits)]


@pytest.mark.parametrize(
    "digits",
    [
        "2220000000000000",  # just below the Mastercard 2-series
        "2721000000000004",  # just above it
        "3527000000000008",  # just below JCB
        "3590000000000000",  # just above JCB
        "30600000000001",  # Diners stops at 305
        "5900000000000000",  # 59 belongs to nobody here
        "1000000000000008",
        "3400000000000000",  # Amex prefix, 16 digits
        "601100000000001",  # Discover prefix, 15 digits
        "40000000000000006",  # Visa prefix, 17 digits
        "500000000005",  # Maestro prefix, but only 12 digits
    ],
)
def test_unknown_prefixes_and_wrong_lengths_have_no_issuer(digits: str) -> None:
    assert issuer(digits) is None
    assert find_cards(f"card {digits} end".encode()) == []


def test_luhn() -> None:
    assert luhn_ok(VISA)
    assert not luhn_ok("4111111111111112")
    assert not luhn_ok("")
    assert not luhn_ok("4111 1111 1111 1111")
    assert not luhn_ok("٤١١١١١١١١١١١١١١١")  # Arabic-Indic digits are not card digits


def test_mask_keeps_first_six_and_last_four_only() -> None:
    assert mask(VISA) == VISA_MASKED
    assert mask("4111-1111-1111-1111") == VISA_MASKED
    assert mask("378282246310005") == "378282*****0005"
    assert mask("4000000000000000006") == "400000*********0006"
    assert mask("4222222222222") == "422222***2222"
    assert mask("123456789012") == "********9012"  # too short for 6 + 4 to leave anything hidden
    assert mask("1234") == "****"


@pytest.mark.parametrize(
    "text",
    [
        b"4111111111111111",
        b"4111 1111 1111 1111",
        b"4111-1111-1111-1111",
        b"<card-number>4111111111111111</card-number>",
        b"<card>4111 1111 1111 1111</card>",
        b'{"pan": "4111-1111-1111-1111", "exp": "12/27"}',
        b"order_no,card,amount\n00000042,4111111111111111,19.99\n",
        b"Card: 4111111111111111.",
        b"card\t4111111111111111\r\n",
        b"card:\xc2\xa04111111111111111",  # after a no-break space
        b"qty 2 4111111111111111 12/27",  # other numbers around it, single spaces
        b"2026-12-01 10:00:00 4111111111111111 100",
        b"4111 1111 1111 1111 12 27",
        b"SKU-4111111111111111",
    ],
)
def test_layouts_and_surroundings_that_are_flagged(text: bytes) -> None:
    assert find_cards(text) == [VISA_MASKED]


def test_other_layouts() -> None:
    assert find_cards(b"amex 3782 822463 10005 ok") == ["378282*****0005"]
    assert find_cards(b"diners 3056 930902 5904") == ["305693****5904"]
    assert find_cards(b"19 digits 4000 0000 0000 0000 006") == ["400000*********0006"]
    assert find_cards(b"old visa 4222 222 222 222") == ["422222***2222"]  # 13 digits, grouped


@pytest.mark.parametrize(
    "text",
    [
        b"4111111111111112",  # fails Luhn
        b"4111 1111 1111 1112",
        b"411111111111",  # too short
        b"ID4111111111111111X",  # glued to letters
        b"ref A4111111111111111",
        b"41111111111111111111",  # a 20-digit id
        b"94111111111111111",  # glued to another digit
        b"00012345678901234",  # order id
        b"+1 555-123-4567",
        b"+49 30 1234 5678 90",
        b"+44 20 7946 0958",
        b"(415) 555-0100 ext 4111",
        b"2026-12-01 2026-12-02",  # dates: a 16-digit run with dashes and a space
        b"01-12-2026 15-12-2026",
        b"2026-12-01T00:07:00.000Z",
        b"1 234 567,89 EUR",
        b"12345678901234.56",
        b"0.4111111111111111",  # a float
        b"4111111111111111.5",
        b"4111.1111.1111.1111",  # other separators
        b"4111/1111/1111/1111",
        b"4111_1111_1111_1111",
        b"4111  1111  1111  1111",  # double spaces split the number
        b"4111 - 1111 - 1111 - 1111",
        b"12 34 5678 9012 3456",  # several short numbers joined by spaces
        b"IBAN DE89 4111 1111 1111 1111 00",  # glued to the country code
        b"<ean>4006381333924</ean>",  # an EAN-13 that passes Luhn with a Visa prefix
        b"5012345678924",  # and one with a Maestro prefix
    ],
)
def test_not_flagged(text: bytes) -> None:
    assert find_cards(text) == []


def test_examples_that_only_the_context_rules_reject() -> None:
    """These would count without the rule that rejects them, so the tests above are not passing by luck."""
    assert luhn_ok("4006381333924") and issuer("4006381333924") == "Visa"
    assert find_cards(b"4006 381 333 924") == ["400638***3924"]  # grouped, it reads as a card
    assert find_cards(b"+4111111111111111") == []  # '+': a phone number
    assert find_cards(b"IBAN 89 4111 1111 1111 1111 00") == [VISA_MASKED]
    assert find_cards(b"a 4111111111111111 b") == [VISA_MASKED]
    # the phone numbers above are not valid cards even without the '+' rule
    assert issuer("49301234567890") is None
    assert find_cards(b"1 555-123-4567") == find_cards(b"49 30 1234 5678 90") == []


def test_several_cards_in_order() -> None:
    text = b"a,4111111111111111\nb,5555 5555 5555 4444\nc,378282246310005\nd,4111111111111111\n"
    assert find_cards(text) == [VISA_MASKED, "555555******4444", "378282*****0005", VISA_MASKED]


def _slow_find_cards(data: bytes) -> list[str]:
    """The same rules without the fast prefilter: every maximal run, then the context checks."""
    found = []
    for run in re.finditer(rb"[0-9](?:[ -]?[0-9])*", data):
        before, after = data[max(0, run.start() - 2) : run.start()], data[run.end() : run.end() + 2]
        if re.search(rb"[A-Za-z0-9+]\Z|[0-9]\.\Z", before) or re.match(rb"[A-Za-z0-9]|\.[0-9]", after):
            continue
        found += pci._cards_in_run(run.group().decode())
    return found


def test_the_prefilter_misses_nothing_the_rules_would_flag() -> None:
    rnd = random.Random(20261204)
    pieces = [VISA, "4111 1111 1111 1111", "3782-822463-10005", "30569309025904", "4222 222 222 222", "378282246310005"]
    alphabet = "0123456789      --.,+xZ\n"
    flagged = 0
    for _ in range(300):
        parts = []
        for _ in range(rnd.randrange(1, 25)):
            kind = rnd.random()
            if kind < 0.25:
                parts.append(rnd.choice(pieces))
            elif kind < 0.6:
                parts.append("".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 21))))
            else:
                parts.append("".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 4))))
        data = "".join(parts).encode()
        assert find_cards(data) == _slow_find_cards(data), data
        flagged += len(find_cards(data))
    assert flagged > 30


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_scan_file_counts_all_but_keeps_few_masked_samples(tmp_path: Path) -> None:
    cards = [VISA, "5555555555554444", "378282246310005"]
    lines = [f"{i},{cards[i % 3]},{i * 7 % 100}.00\n" for i in range(30)]
    path = _write(tmp_path / "orders.csv", "".join(lines).encode())
    result = scan_file(path, max_samples=2)
    assert result.count == 30
    assert result.found
    assert result.samples == (VISA_MASKED, "555555******4444")
    assert result.scanned_bytes == path.stat().st_size
    assert scan_file(path).samples == (VISA_MASKED, "555555******4444", "378282*****0005")  # distinct only
    assert scan_file(path, max_samples=0).samples == ()
    shown = repr(result) + str(result)
    assert all(card not in shown for card in cards)
    assert VISA_MASKED in shown


def test_clean_file(tmp_path: Path) -> None:
    line = b"order 00000042 total 19.99 on 2026-12-01, EAN 4006381333924\n"
    result = scan_file(_write(tmp_path / "clean.txt", line * 1000))
    assert result == CardScan(tmp_path / "clean.txt", 0, (), len(line) * 1000)
    assert not result.found
    assert scan_file(_write(tmp_path / "empty", b"")).count == 0


STRADDLE = (
    b"x 4111111111111111 y\n4111 1111 1111 1111,z\n<c>3782-822463-10005</c> 1 2 3 "
    b"+49 30 1234 5678 90 ID4111111111111111 0.4111111111111111 qty 2 5555555555554444 1\n"
    b"30569309025904"
)


def test_chunk_boundaries_neither_hide_nor_double_a_card(tmp_path: Path) -> None:
    expected = find_cards(STRADDLE)
    assert len(expected) == 5
    path = _write(tmp_path / "straddle.txt", STRADDLE)
    for chunk_size in range(1, 48):
        result = scan_file(path, max_samples=10, chunk_size=chunk_size)
        assert result.count == 5, chunk_size
        assert list(result.samples) == list(dict.fromkeys(expected))
        assert result.scanned_bytes == len(STRADDLE)


def test_big_chunks_are_scanned_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pci, "_BLOCK", 7)
    path = _write(tmp_path / "straddle.txt", (STRADDLE + b"\n") * 3)
    for chunk_size in (5, 8, 13, 100, 1 << 20):
        assert scan_file(path, chunk_size=chunk_size).count == 15


def test_runs_longer_than_the_carry_are_split_and_never_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pci, "LONG_RUN", 40)
    monkeypatch.setattr(pci, "MAX_CARRY", 80)
    data = b"a 4111111111111111 b " + b"1 " * 200 + b"4111 1111 1111 1111 c " + b"9" * 300 + b" d 5555555555554444"
    assert find_cards(data) == [VISA_MASKED, "555555******4444"]  # the card inside the long run is ignored
    path = _write(tmp_path / "long.txt", data)
    for chunk_size in (1, 7, 50, 79, 1000):
        assert scan_file(path, max_samples=5, chunk_size=chunk_size).count == 2


def test_missing_or_unreadable_file_raises_local_file_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(LocalFileError, match="nope.csv"):
        scan_file(missing)
    with pytest.raises(LocalFileError, match=str(tmp_path)):
        scan_file(tmp_path)  # a folder


def _make_samples(outdir: Path, *args: str) -> dict[str, Path]:
    if not MAKE_SAMPLES.is_file():
        pytest.skip(f"{MAKE_SAMPLES} is not there")
    cmd = [sys.executable, str(MAKE_SAMPLES), str(outdir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    files = {Path(line).name.split("_export")[0]: Path(line) for line in proc.stdout.split()}
    assert sorted(files) == ["catalog", "customer", "order"]
    assert all(path.is_file() and path.stat().st_size > 1000 for path in files.values())
    return files


def test_clean_sample_exports_are_not_flagged(tmp_path: Path) -> None:
    files = _make_samples(tmp_path, "--orders", "3000", "--products", "5000", "--customers", "5000")
    assert b"<ean>" in files["catalog"].read_bytes()  # 13-digit EANs, a tenth of them Luhn-valid
    assert b"<card-number>***" in files["order"].read_bytes()
    for path in files.values():
        result = scan_file(path)
        assert (result.count, result.samples) == (0, ()), path.name


def test_leaked_cards_in_a_sample_export_are_counted(tmp_path: Path) -> None:
    files = _make_samples(tmp_path, "--orders", "300", "--leak", "7")
    result = scan_file(files["order"], max_samples=3)
    assert result.count == 7
    assert 1 <= len(result.samples) <= 3
    assert all("*" in sample and len(sample.replace("*", "")) == 10 for sample in result.samples)
    assert scan_file(files["catalog"]).count == 0
    assert scan_file(files["customer"]).count == 0
    assert scan_file(files["order"], chunk_size=4096).count == 7
